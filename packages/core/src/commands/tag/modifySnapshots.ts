import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import type { SnapshotFile } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { parseOptions } from '../../util/parseOptions.js'
import { commitSnapshotChanges } from '../snapshots/commitSnapshotChanges.js'
import { applyModification, isEmptyModification, SnapshotModificationSchema, type SnapshotModification } from './SnapshotModification.js'

/** A snapshot {@link Repository.modifySnapshots} rewrote. */
export interface ModifiedSnapshot {
  /** The id it had. */
  from: Id
  /** The new snapshot, with its new `id`. */
  snapshot: SnapshotFile
}

/** What {@link Repository.modifySnapshots} did. */
export interface ModifySnapshotsResult {
  /** Snapshots rewritten (new file saved, old file removed). */
  modified: ModifiedSnapshot[]
  /** Ids of the snapshots the modification did not change (nothing written for them). */
  unchanged: Id[]
}

/**
 * Applies a modification to snapshots (see {@link Repository.modifySnapshots}): each changed snapshot is
 * saved as a new file with `original` set, then its old file is removed.
 */
export async function modifySnapshots(
  repo: Repository,
  snapshots: readonly SnapshotFile[],
  modification: SnapshotModification,
  control: Control = {},
): Promise<ModifySnapshotsResult> {
  const m = parseOptions(SnapshotModificationSchema, modification, 'snapshot modification')
  if (isEmptyModification(m)) {
    throw new RusticError('InvalidInput', 'nothing to change: give tags to set, add or remove, or a label, description, delete policy, host name or time to set', {
      code: 'InvalidOptions',
    })
  }
  const now = new Date()
  const changes: Array<{ from: Id; save: SnapshotFile }> = []
  const unchanged: Id[] = []
  const seen = new Set<Id>()
  for (const snap of snapshots) {
    if (snap.id === undefined) throw new RusticError('InvalidInput', 'cannot modify a snapshot without an id: pass snapshots as loaded from the repository', { code: 'InvalidId' })
    if (seen.has(snap.id)) continue
    seen.add(snap.id)
    const next = applyModification(snap, m, now)
    if (next === undefined) unchanged.push(snap.id)
    else changes.push({ from: snap.id, save: next })
  }
  const done = await commitSnapshotChanges(
    repo,
    changes.map((c) => ({ save: c.save, remove: c.from })),
    `modify ${changes.length} snapshot(s)`,
    control,
  )
  return {
    modified: changes.map((c, i) => ({ from: c.from, snapshot: { ...c.save, id: done[i]!.saved! } })),
    unchanged,
  }
}
