import { z } from 'zod'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import type { BlobType, Node } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { resolveSnapshotsOrAll } from '../../repository/resolveSnapshot.js'
import { SnapshotFilterSchema } from '../../repository/SnapshotFilter.js'
import { parseOptions } from '../../util/parseOptions.js'
import { findUsedBlobs } from '../walkTrees.js'
import { blobDataLength } from '../../blob/blobDataLength.js'

/**
 * restic's counting modes: `restore-size` (sizes of the files as restored, hard links once),
 * `files-by-contents` (files with distinct contents), `blobs-per-file` (blob references of files with
 * distinct contents, per path) and `raw-data` (the blobs the snapshots use, as stored).
 */
export const StatsModeSchema = z.enum(['restore-size', 'files-by-contents', 'blobs-per-file', 'raw-data'])

/** A counting mode of {@link IndexedRepository.stats}. */
export type StatsMode = z.infer<typeof StatsModeSchema>

/** Options of {@link IndexedRepository.stats}. */
export const StatsOptionsSchema = z.object({
  /** What to count (default `restore-size`, as restic). */
  mode: StatsModeSchema.default('restore-size'),
  /** Snapshots by full id, unique id prefix, `latest` or `latest~N`; default: every snapshot passing `filter`. */
  snapshots: z.array(z.string()).default([]),
  /** Host, path, tag and label filter. */
  filter: SnapshotFilterSchema.optional(),
})

/** Options of {@link IndexedRepository.stats}; see {@link StatsOptionsSchema}. */
export type StatsOptions = z.input<typeof StatsOptionsSchema>

/** What {@link IndexedRepository.stats} counted: restic's numbers, and for `raw-data` the sizes before compression. */
export interface StatsResult {
  mode: StatsMode
  /** Snapshots walked. */
  snapshotsCount: number
  /** restic's `total_size`: bytes as the mode counts them (`raw-data`: stored, compressed and encrypted). */
  totalSize: number
  /** restic's `total_file_count` (0 in `raw-data`). */
  totalFileCount: number
  /** restic's `total_blob_count` (`raw-data` and `blobs-per-file`; else 0). */
  totalBlobCount: number
  /** `raw-data`: the blobs' plaintext bytes (before compression and encryption). */
  totalUncompressedSize?: number
  /** `raw-data`: plaintext bytes per stored byte (1 without compression, a little less for tiny blobs). */
  compressionRatio?: number
  /** `raw-data`: blobs of each type (count, stored and plaintext bytes). */
  blobs?: Record<BlobType, { count: number; size: number; dataSize: number }>
}

/**
 * restic's `stats`: walks the selected snapshots and counts as `mode` says, with restic 0.14's rules
 * (so `--json` numbers equal restic's on the same repository). Takes a shared lock.
 * @throws RusticError `BlobNotFound` for a blob a snapshot needs that the index lacks; `IdNotFound`,
 *   `AmbiguousId`, `InvalidOptions`, `Aborted`.
 */
export async function stats(indexed: IndexedRepository, options: StatsOptions = {}, control: Control = {}): Promise<StatsResult> {
  const o = parseOptions(StatsOptionsSchema, options, 'stats options')
  const repo = indexed.repo
  const { progress } = repo.control(control)
  return repo.withLock('shared', async ({ signal }) => {
    await indexed.reloadIndexIfChanged({ ...control, signal })
    const snaps = await resolveSnapshotsOrAll(repo, o.snapshots, o.filter, { ...control, signal })
    const result: StatsResult = { mode: o.mode, snapshotsCount: snaps.length, totalSize: 0, totalFileCount: 0, totalBlobCount: 0 }
    const p = progress('counter', 'scanning snapshots')
    if (o.mode === 'raw-data') {
      const used = await findUsedBlobs(indexed, snaps.map((s) => s.tree), { progress: p, signal })
      p.finish()
      const blobs = { data: { count: 0, size: 0, dataSize: 0 }, tree: { count: 0, size: 0, dataSize: 0 } }
      for (const [type, ids] of [['tree', used.trees], ['data', used.data]] as const) {
        for (const id of ids) {
          const loc = indexed.index.get(type, id)
          if (!loc) throw new RusticError('Repository', `${type} blob ${id} is not in the index: the repository is damaged (run check)`, { code: 'BlobNotFound' })
          blobs[type].count++
          blobs[type].size += loc.length
          blobs[type].dataSize += blobDataLength(loc)
        }
      }
      result.totalBlobCount = blobs.data.count + blobs.tree.count
      result.totalSize = blobs.data.size + blobs.tree.size
      result.totalUncompressedSize = blobs.data.dataSize + blobs.tree.dataSize
      result.compressionRatio = result.totalSize === 0 ? 1 : result.totalUncompressedSize / result.totalSize
      result.blobs = blobs
      return result
    }
    p.setLength(snaps.length)
    const uniqueFiles = new Set<string>()
    const fileBlobs = new Map<string, Set<Id>>()
    for (const snap of snaps) {
      const inodes = new Set<bigint>()
      const visit = (path: string, node: Node): boolean => {
        if (o.mode === 'restore-size') {
          // Every node counts as a file; a size counts once per inode (hard links restore once).
          result.totalFileCount++
          const inode = node.inode ?? 0n
          if (!inodes.has(inode) || inode === 0n) {
            inodes.add(inode)
            result.totalSize += node.size ?? 0
          }
          return false
        }
        const content = node.content ?? []
        const key = content.join('')
        if (!uniqueFiles.has(key)) {
          uniqueFiles.add(key)
          if (o.mode === 'files-by-contents') {
            result.totalSize += node.size ?? 0
            result.totalFileCount++
          } else {
            for (const blob of content) {
              let seen = fileBlobs.get(path)
              if (!seen) {
                fileBlobs.set(path, (seen = new Set()))
                result.totalFileCount++
              }
              if (!seen.has(blob)) {
                const loc = indexed.locate('data', blob)
                result.totalSize += blobDataLength(loc)
                seen.add(blob)
                result.totalBlobCount++
              }
            }
          }
        }
        return true
      }
      await walkLikeRestic(indexed, '/', await indexed.getTree(snap.tree, { signal }), new Set(), visit, signal)
      p.inc(1)
    }
    p.finish()
    return result
  }, control)
}

/**
 * restic 0.14's `walker.Walk` below one tree: nodes in name order, `visit` called for each (for a
 * directory after its subtree is read); a subtree `visit` asked to ignore, or whose nodes were all
 * ignored, is skipped where it appears again in this walk.
 * @returns true when every node was ignored.
 */
async function walkLikeRestic(
  indexed: IndexedRepository,
  prefix: string,
  nodes: readonly Node[],
  ignoreTrees: Set<Id>,
  visit: (path: string, node: Node) => boolean,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  throwIfAborted(signal)
  let allIgnored = nodes.length > 0
  for (const node of nodes) {
    const path = prefix === '/' ? `/${node.name}` : `${prefix}/${node.name}`
    if (node.type !== 'dir') {
      if (!visit(path, node)) allIgnored = false
      continue
    }
    if (!node.subtree) {
      throw new RusticError('Repository', `directory ${path} has no subtree: the repository is damaged (run check)`, { code: 'DecodeError' })
    }
    if (ignoreTrees.has(node.subtree)) continue
    const sub = await indexed.getTree(node.subtree, { signal })
    if (visit(path, node)) ignoreTrees.add(node.subtree)
    else allIgnored = false
    if (await walkLikeRestic(indexed, path, sub, ignoreTrees, visit, signal)) ignoreTrees.add(node.subtree)
    else allIgnored = false
  }
  return allIgnored
}
