import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { z } from 'zod'
import type { Id } from '../../id/Id.js'
import { SnapshotFilterSchema } from '../../repository/SnapshotFilter.js'

/** Options of `check` (restic's and rustic's `check` flags). */
export const CheckOptionsSchema = z.object({
  /** Also download every pack and verify it: its hash, header and every blob (restic `--read-data`). */
  readData: z.boolean().default(false),
  /**
   * Download only a subset of the packs, as restic 0.14 picks it: `n/m` (the packs whose id's first byte
   * modulo m is n-1; m ≤ 256), `P%` (that share of the packs, at random) or a size like `500M` (as that
   * share of the repository's size). Implies `readData`.
   */
  readDataSubset: z.string().optional(),
  /** Do not compare the cache's copies with the repository. */
  trustCache: z.boolean().default(false),
  /** Walk only these snapshots (ids, id prefixes, `latest`); default all. With a selection, unused blobs are not reported. */
  snapshots: z.array(z.string()).default([]),
  /** Walk only the snapshots passing this filter. */
  filter: SnapshotFilterSchema.optional(),
  /**
   * Memory for pack data being downloaded and verified at once (bytes), shared by the threads verifying
   * (the main thread gets half an even share, the workers the rest; while the main thread walks the trees,
   * the workers share all of it); default 4 MiB per thread, 8 MiB at least. Packs are read in pieces of at
   * most a quarter of an even share (4 MiB at most) cut between blobs, read ahead as far as that memory
   * allows; one piece per thread is always allowed.
   */
  readDataMemory: z.number().int().positive().optional(),
  /**
   * Worker threads verifying the packs read (hash, header, every blob opened and hashed), beside the main
   * thread, which verifies a share of them too (between reads and the tree walk); 0 verifies them on the
   * main thread alone (also the fallback when workers cannot load the native modules). Default: one per core
   * but one (at least one), so that the workers and the main thread keep every core busy without more
   * threads than cores (each worker also costs memory and start-up time).
   */
  workers: z.number().int().nonnegative().default(Math.max(1, availableParallelism() - 1)),
  /**
   * Idle threads of a reusable worker program (`scryptBytes`' `keepThread`: the threads that derived the key)
   * on which the verify workers run instead of starting as many new ones (saving a thread's start each). They
   * belong to `check` from then on: it ends those it does not use. Default none.
   */
  idleThreads: z.array(z.custom<Worker>((v) => v instanceof Worker, 'a worker thread')).default([]),
  /**
   * Packs whose bytes the caller found to hash to their id (e.g. with `hashPackFiles`, while the key was derived),
   * each with the size it had then. With `readData` (or a subset), such a pack, read from the repository (not a hot
   * one) with that size, is verified without hashing its bytes again: its header and every blob still are; every
   * other pack is verified in full. Default none.
   */
  hashedPacks: z.map(z.custom<Id>((v) => typeof v === 'string', 'a pack id'), z.number().int().nonnegative()).default(() => new Map<Id, number>()),
})

/** Options of `check`; see {@link CheckOptionsSchema} for the defaults. */
export type CheckOptions = z.input<typeof CheckOptionsSchema>

/** Options of `check` with the defaults filled in. */
export type CheckOptionsParsed = z.output<typeof CheckOptionsSchema>

/** The memory for pack data of `check --read-data` with `lanes` threads verifying: `readDataMemory`, or its default. */
export function readDataMemory(opts: Pick<CheckOptionsParsed, 'readDataMemory'>, lanes: number): number {
  return opts.readDataMemory ?? Math.max(8 << 20, (4 << 20) * lanes)
}
