import { Packer, type PackerStats } from '../../blob/Packer.js'
import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import { Indexer } from '../../index/Indexer.js'
import type { Control } from '../../progress/Control.js'
import type { ProgressFactory } from '../../progress/Progress.js'
import type { IndexPack, SnapshotFile } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import type { LockHandle } from '../../repository/lock/index.js'
import { walkTrees } from '../walkTrees.js'
import { copyBlobs } from './copyBlobs.js'
import { CopyFinder, refuseSameRepository, withBothLocked, type CopyPlan } from './planCopy.js'

/** A snapshot copied, or found copied before. */
export interface CopiedSnapshot {
  /** The snapshot in the source repository. */
  source: SnapshotFile
  /** Its copy in the target repository. */
  target: SnapshotFile
}

/** What {@link IndexedRepository.copy} did. */
export interface CopyResult {
  /** Snapshots copied now, oldest first. */
  copied: CopiedSnapshot[]
  /** Snapshots not copied because the target has them already (from the plan, or copied meanwhile). */
  skipped: CopiedSnapshot[]
  /** Data blobs added to the target, and their sizes. */
  data: PackerStats
  /** Tree blobs added to the target, and their sizes. */
  trees: PackerStats
  /** Index files written to the target. */
  indexFiles: Id[]
}

/**
 * Copies the snapshots of a {@link CopyPlan} from `source` into the plan's target, as restic's and
 * rustic's `copy` do: the blobs the snapshots need and the target lacks are read from the source
 * (verified against their ids), sealed with the target's key and compression (data blobs as they are,
 * not chunked again; trees byte for byte, so their ids stay) into new packs, then indexed; then each
 * snapshot is saved in the target with `parent` dropped and `original` naming the source snapshot.
 * Takes shared locks on both repositories (as restic's copy does) and loads either index again when
 * another client rewrote it since the plan. A snapshot the target got meanwhile is skipped.
 * @throws RusticError `SameRepository`, `BlobNotFound` / `IntegrityError` for source blobs that are
 *   missing or damaged (nothing of that snapshot is saved), `LockLost`, `Aborted`.
 */
export async function copy(source: IndexedRepository, plan: CopyPlan, control: Control = {}): Promise<CopyResult> {
  const target = plan.target
  if (plan.sourceId !== source.repo.id) {
    throw new RusticError('InvalidInput', `this copy plan was made for repository ${plan.sourceId}, not ${source.repo.id}`, { code: 'InvalidArgument' })
  }
  refuseSameRepository(source, target)
  const { progress } = target.repo.control(control)
  return withBothLocked(source, target, (lock) => copyLocked(source, plan, progress, lock), control)
}

/** {@link copy} once both locks are held (`lock` is the target's, its signal also ends with the source's). */
async function copyLocked(source: IndexedRepository, plan: CopyPlan, progress: ProgressFactory, lock: LockHandle): Promise<CopyResult> {
  const target = plan.target
  const signal = lock.signal
  await source.reloadIndexIfChanged({ signal })
  await target.reloadIndexIfChanged({ signal })

  const finder = new CopyFinder(await target.repo.getSnapshots({}, { signal }))
  const skipped: CopiedSnapshot[] = []
  const toCopy: SnapshotFile[] = []
  for (const { snapshot } of plan.snapshots) {
    const existing = finder.find(snapshot)
    if (existing) skipped.push({ source: snapshot, target: existing })
    else {
      toCopy.push(snapshot)
      finder.add(snapshot)
    }
  }

  // The blobs the target lacks, found by reading every tree of the snapshots.
  const trees = new Set<Id>()
  const data = new Set<Id>()
  const walking = progress('counter', 'finding needed blobs')
  await walkTrees(
    source,
    toCopy.map((s) => s.tree),
    (id, nodes) => {
      if (!target.index.has('tree', id)) trees.add(id)
      for (const node of nodes) {
        if (node.type !== 'file') continue
        for (const blob of node.content ?? []) if (!target.index.has('data', blob)) data.add(blob)
      }
    },
    { progress: walking, signal },
  )
  walking.finish()

  // Packs, then the index naming them, then the snapshots (restic's write order).
  const onPack = (pack: IndexPack): void => target.index.addIndexFile({ packs: [pack] })
  const dbe = target.repo.dbe
  const indexer = new Indexer(dbe, { onPack })
  const dataPacker = new Packer(dbe, 'data', indexer, target.index, { signal, config: target.repo.config })
  const treePacker = new Packer(dbe, 'tree', indexer, target.index, { signal, config: target.repo.config })
  let stats: { data: PackerStats; trees: PackerStats }
  try {
    const pd = progress('bytes', 'copying data blobs')
    await copyBlobs(source, 'data', data, dataPacker, pd, signal)
    pd.finish()
    const pt = progress('bytes', 'copying tree blobs')
    await copyBlobs(source, 'tree', trees, treePacker, pt, signal)
    pt.finish()
    stats = { data: await dataPacker.finalize(), trees: await treePacker.finalize() }
  } catch (e) {
    // Index what was stored completely, so that a later copy reuses it.
    await dataPacker.finalize().catch(() => {})
    await treePacker.finalize().catch(() => {})
    await indexer.finalize().catch(() => {})
    throw e
  }
  const indexFiles = await indexer.finalize()

  const copied: CopiedSnapshot[] = []
  const saving = progress('counter', 'saving snapshots')
  saving.setLength(toCopy.length)
  await lock.verify()
  for (const snap of toCopy) {
    const saved = copiedSnapshot(snap)
    await target.repo.saveSnapshot(saved, { signal })
    copied.push({ source: snap, target: saved })
    saving.inc(1)
  }
  saving.finish()
  return { copied, skipped, ...stats, indexFiles }
}

/** The snapshot to save in the target: the same, without its parents, with `original` naming the first snapshot. */
function copiedSnapshot(snap: SnapshotFile): SnapshotFile {
  const saved: SnapshotFile = { ...snap, original: snap.original ?? snap.id }
  delete saved.id
  delete saved.parent
  delete saved.parents
  return saved
}
