import { availableParallelism } from 'node:os'
import { z } from 'zod'
import { checkPattern } from '../../archiver/excludes/ExcludePatterns.js'

/** A list of include or exclude patterns, each checked by restic's rules (as backup's excludes are). */
function patternList(what: string): z.ZodDefault<z.ZodArray<z.ZodString>> {
  const pattern = z.string().superRefine((p, ctx) => {
    try {
      checkPattern(p, what)
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message })
    }
  })
  return z.array(pattern).default([])
}

/**
 * Options of `IndexedRepository.planRestore`, with defaults (rustic_core's `RestoreOptions` plus
 * restic's include/exclude and tuning knobs). The plan keeps them for `IndexedRepository.restore`.
 */
export const RestoreOptionsSchema = z.object({
  /** Only restore paths matching one of these globs (or below a match); paths are relative to the restored directory and start with `/`. */
  include: patternList('include'),
  /** Do not restore paths matching one of these globs (or below a match). */
  exclude: patternList('exclude'),
  /** Match include/exclude patterns case-insensitively. */
  ignoreCase: z.boolean().default(false),
  /** Remove entries of the target that the snapshot does not have (only those the include/exclude patterns select). */
  delete: z.boolean().default(false),
  /**
   * What to do with entries that already exist in the target (restic's `--overwrite`):
   * `if-changed` (default) rewrites an existing file unless its size and mtime match the snapshot's (then
   * only its differing blobs); `always` also hashes files whose size and mtime match (as `verifyExisting`);
   * `if-newer` replaces an existing entry only when the snapshot's mtime is newer than its own;
   * `never` leaves every existing entry as it is (content and metadata) and restores only what is missing.
   */
  overwrite: z.enum(['always', 'if-changed', 'if-newer', 'never']).default('if-changed'),
  /** Hash existing files against the snapshot even when their size and mtime match (what `overwrite: 'always'` does). */
  verifyExisting: z.boolean().default(false),
  /** Restore ownership from the numeric uid/gid instead of the user and group names. */
  numericId: z.boolean().default(false),
  /** Do not restore ownership (it is only restored when running as root). */
  noOwnership: z.boolean().default(false),
  /** Leave holes for all-zero blobs of new files instead of writing zeros. */
  sparse: z.boolean().default(false),
  /** Check that each restored blob hashes to its id (on top of the MAC check). */
  verifyBlobs: z.boolean().default(true),
  /**
   * Threads that decrypt blobs and write them (default: one per core); 0 does everything on the main
   * thread (also the fallback when workers cannot load the native modules). At most `readConcurrency`
   * are used (each works on one pack read at a time; more would only idle, each with a V8 heap of its
   * own), and one per 16 MiB of pack data to read (starting a worker costs more than it saves on less).
   * With two or more, the main thread is one of them (it takes a read whenever every worker thread has
   * one) and one worker thread fewer is started; with one, one worker thread does all.
   */
  workers: z.number().int().nonnegative().default(Math.max(1, availableParallelism())),
  /** Ranged pack reads in flight at once (see also `readMemory`). */
  readConcurrency: z.number().int().positive().default(4),
  /**
   * Most bytes of pack data read and not yet written at once (default 16 MiB: at least two reads of
   * `maxReadSize` in flight): with `maxReadSize`, what bounds restore's memory whatever the size of the
   * snapshot. A single read larger than this runs alone. A backend with high latency may restore faster with
   * more (e.g. 64 MiB).
   */
  readMemory: z.number().int().positive().default(16 << 20),
  /** File operations (writes, metadata, hashing of existing files) in flight at once. */
  fileConcurrency: z.number().int().positive().default(16),
  /** Neighbouring blobs of a pack closer than this many bytes are fetched in one ranged read. */
  maxReadGap: z.number().int().nonnegative().default(1 << 20),
  /** A merged ranged read is not made longer than this (bytes). */
  maxReadSize: z.number().int().positive().default(8 << 20),
  /** Most files kept open at once while their blobs arrive. */
  maxOpenFiles: z.number().int().positive().default(256),
})

/** Options of `IndexedRepository.planRestore`; see {@link RestoreOptionsSchema}. */
export type RestoreOptions = z.input<typeof RestoreOptionsSchema>

/** {@link RestoreOptions} with defaults applied. */
export type ResolvedRestoreOptions = z.output<typeof RestoreOptionsSchema>
