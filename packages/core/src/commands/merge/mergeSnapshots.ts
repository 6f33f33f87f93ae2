import { z } from 'zod'
import { Packer } from '../../blob/Packer.js'
import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import { Indexer } from '../../index/Indexer.js'
import type { Control } from '../../progress/Control.js'
import { nowGoTime, parseGoTime, type IndexPack, type SnapshotFile } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { refuseAppendOnly } from '../../repository/refuseAppendOnly.js'
import { parseOptions } from '../../util/parseOptions.js'
import { snapshotFromOptions, SnapshotOptionsSchema } from '../backup/SnapshotOptions.js'
import { deletePolicyAt } from '../snapshots/deletePolicy.js'
import { lastModifiedNode, mergeTrees, type MergeCounts, type NodeComparator } from './mergeTrees.js'

/** Options of {@link IndexedRepository.mergeSnapshots}: the new snapshot's metadata (as for backup), and whether to remove the merged ones. */
export const MergeOptionsSchema = SnapshotOptionsSchema.extend({
  /** Remove the merged snapshots afterwards (those marked to be kept by their delete policy stay). */
  delete: z.boolean().default(false),
})

/** Options of {@link IndexedRepository.mergeSnapshots}; see {@link MergeOptionsSchema}. */
export type MergeOptions = z.input<typeof MergeOptionsSchema>

/** What {@link IndexedRepository.mergeSnapshots} did. */
export interface MergeResult {
  /** The new snapshot (with its id). */
  snapshot: SnapshotFile
  /** Merged snapshots removed (with `delete`). */
  deleted: Id[]
  /** Merged snapshots kept despite `delete`, because their delete policy protects them. */
  kept: Id[]
}

/**
 * Merges snapshots into a new one (rustic's `merge`): its tree is the merge of their trees where, among
 * entries of the same path, the one modified last wins (`compare`; on a tie the later snapshot's) and
 * directories are merged recursively; its paths are the union of theirs (paths inside another left out);
 * its time is the latest of theirs unless `time` is given; its host is theirs when they share one, else
 * `host` or this machine's; `parents` lists the merged snapshots. New trees are written before the
 * snapshot. Takes a shared lock (an exclusive one with `delete`).
 * @throws RusticError `InvalidArgument` with no snapshots; `AppendOnly` for `delete` in an append-only
 *   repository; `InvalidOptions`; `LockLost`, `Aborted`.
 */
export async function mergeSnapshots(
  indexed: IndexedRepository,
  snapshots: readonly SnapshotFile[],
  options: MergeOptions = {},
  control: Control = {},
  compare: NodeComparator = lastModifiedNode,
): Promise<MergeResult> {
  const o = parseOptions(MergeOptionsSchema, options, 'merge options')
  if (snapshots.length === 0) throw new RusticError('InvalidInput', 'nothing to merge: give at least one snapshot', { code: 'InvalidArgument' })
  const repo = indexed.repo
  if (o.delete) refuseAppendOnly(repo.config, 'remove the merged snapshots')
  const sorted = [...snapshots].sort((a, b) => cmpTime(a.time, b.time))
  const { progress } = repo.control(control)
  return repo.withLock(o.delete ? 'exclusive' : 'shared', async (lock) => {
    const signal = lock.signal
    await indexed.reloadIndexIfChanged({ ...control, signal })
    const start = nowGoTime()
    const onPack = (pack: IndexPack): void => indexed.index.addIndexFile({ packs: [pack] })
    const indexer = new Indexer(repo.dbe, { onPack })
    const packer = new Packer(repo.dbe, 'tree', indexer, indexed.index, { signal, config: repo.config })
    const counts: MergeCounts = {
      filesUnmodified: 0,
      dirsChanged: 0,
      dirsUnmodified: 0,
      totalFilesProcessed: 0,
      totalBytesProcessed: 0,
      totalDirsProcessed: 0,
      totalDirsizeProcessed: 0,
    }
    const spinner = progress('spinner', 'merging snapshots')
    let tree: Id
    try {
      tree = await mergeTrees(
        {
          indexed,
          compare,
          counts,
          signal,
          save: async (id, bytes) => void (await packer.add(id, bytes)),
        },
        sorted.map((s) => s.tree),
      )
    } catch (e) {
      await packer.finalize().catch(() => {})
      await indexer.finalize().catch(() => {})
      throw e
    } finally {
      spinner.finish()
    }
    const stats = await packer.finalize()
    await indexer.finalize()

    const hosts = new Set(sorted.map((s) => s.hostname))
    const { delete: _delete, ...metadata } = o
    const base = snapshotFromOptions({ ...metadata, host: o.host ?? (hosts.size === 1 ? sorted[0]!.hostname : undefined) })
    const snap: SnapshotFile = {
      ...base,
      time: o.time ? base.time : sorted[sorted.length - 1]!.time,
      tree,
      paths: mergePaths(sorted.flatMap((s) => s.paths)),
      parents: sorted.map((s) => s.id!).filter((id) => id !== undefined),
      summary: {
        backupStart: start,
        backupEnd: nowGoTime(),
        filesNew: 0,
        filesChanged: 0,
        filesUnmodified: counts.filesUnmodified,
        dirsNew: 0,
        dirsChanged: counts.dirsChanged,
        dirsUnmodified: counts.dirsUnmodified,
        dataBlobs: 0,
        treeBlobs: stats.blobs,
        dataAdded: stats.dataAdded,
        dataAddedPacked: stats.dataAddedPacked,
        dataAddedFiles: 0,
        dataAddedFilesPacked: 0,
        dataAddedTrees: stats.dataAdded,
        dataAddedTreesPacked: stats.dataAddedPacked,
        totalFilesProcessed: counts.totalFilesProcessed,
        totalBytesProcessed: counts.totalBytesProcessed,
        totalDirsProcessed: counts.totalDirsProcessed,
        totalDirsizeProcessed: counts.totalDirsizeProcessed,
        command: 'merge',
      },
    }
    await lock.verify()
    await repo.saveSnapshot(snap, { signal })

    const deleted: Id[] = []
    const kept: Id[] = []
    if (o.delete) {
      const now = new Date()
      const nowNs = BigInt(now.getTime()) * 1_000_000n
      for (const s of sorted) {
        if (s.id === undefined || s.id === snap.id) continue
        if (deletePolicyAt(s, nowNs).state === 'protected') kept.push(s.id)
        else deleted.push(s.id)
      }
      await repo.deleteSnapshots(deleted, { now }, { ...control, signal })
    }
    return { snapshot: snap, deleted, kept }
  }, control)
}

function cmpTime(a: string, b: string): number {
  try {
    const d = parseGoTime(a).unixNs - parseGoTime(b).unixNs
    return d === 0n ? 0 : d > 0n ? 1 : -1
  } catch {
    return a < b ? -1 : a > b ? 1 : 0
  }
}

/** The union of snapshot paths without those inside another one (rustic's `PathList::merge`), sorted. */
export function mergePaths(paths: readonly string[]): string[] {
  const parts = (p: string): string[] => p.split('/').filter((c) => c !== '' && c !== '.')
  const unique = [...new Set(paths)].sort((a, b) => parts(a).length - parts(b).length || (a < b ? -1 : a > b ? 1 : 0))
  const kept: string[] = []
  for (const p of unique) {
    const pp = parts(p)
    const absolute = p.startsWith('/')
    const inside = kept.some((k) => {
      const kp = parts(k)
      return k.startsWith('/') === absolute && kp.length <= pp.length && kp.every((c, i) => c === pp[i])
    })
    if (!inside) kept.push(p)
  }
  return kept.sort()
}
