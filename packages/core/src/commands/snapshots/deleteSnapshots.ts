import { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'
import { isId, shortId, type Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import type { SnapshotFile } from '../../repofile/index.js'
import { refuseAppendOnly } from '../../repository/refuseAppendOnly.js'
import type { Repository } from '../../repository/Repository.js'
import { parseOptions } from '../../util/parseOptions.js'
import { commitSnapshotChanges } from './commitSnapshotChanges.js'
import { deletePolicyAt } from './deletePolicy.js'

/** Options of {@link Repository.deleteSnapshots}. */
export const DeleteSnapshotsOptionsSchema = z.object({
  /** Also remove snapshots whose delete policy protects them (`never`, or `after` a time not yet passed). */
  force: z.boolean().default(false),
  /** The time delete policies are judged at (default: now). */
  now: z.date().optional(),
})

/** Options of {@link Repository.deleteSnapshots} (input form). */
export type DeleteSnapshotsOptions = z.input<typeof DeleteSnapshotsOptionsSchema>

/** What {@link Repository.deleteSnapshots} removed. */
export interface DeleteSnapshotsResult {
  removed: Id[]
}

/**
 * Removes snapshots given as loaded snapshots or full ids (see {@link Repository.deleteSnapshots}).
 * Checks everything before removing anything: an append-only repository (`AppendOnly`) or a protected
 * snapshot without `force` (`SnapshotProtected`) fails with nothing removed.
 */
export async function deleteSnapshots(
  repo: Repository,
  snapshots: readonly (SnapshotFile | Id)[],
  options: DeleteSnapshotsOptions = {},
  control: Control = {},
): Promise<DeleteSnapshotsResult> {
  const o = parseOptions(DeleteSnapshotsOptionsSchema, options, 'delete snapshots options')
  const ids = [...new Set(snapshots.map((s) => idOf(s)))]
  if (ids.length === 0) return { removed: [] }
  refuseAppendOnly(repo.config, `remove ${ids.length} snapshot(s)`)
  if (!o.force) {
    const nowNs = BigInt((o.now ?? new Date()).getTime()) * 1_000_000n
    for (const s of snapshots) {
      const snap = typeof s === 'string' ? await repo.findSnapshot(s, {}, { signal: control.signal }) : s
      const policy = deletePolicyAt(snap, nowNs)
      if (policy.state === 'protected') {
        throw new RusticError(
          'InvalidInput',
          `snapshot ${shortId(idOf(s))} is protected from deletion (${policy.reason}): nothing was removed; use force to remove it anyway`,
          { code: 'SnapshotProtected' },
        )
      }
    }
  }
  const done = await commitSnapshotChanges(repo, ids.map((remove) => ({ remove })), `remove ${ids.length} snapshot(s)`, control)
  return { removed: done.map((d) => d.removed!) }
}

function idOf(s: SnapshotFile | Id): Id {
  const id = typeof s === 'string' ? s : s.id
  if (id === undefined || !isId(id)) {
    throw new RusticError('InvalidInput', 'cannot remove a snapshot without a full id: pass snapshots as loaded from the repository, or their 64-character ids', {
      code: 'InvalidId',
    })
  }
  return id
}
