import type { Id } from '../../id/Id.js'
import type { Repository } from '../../repository/Repository.js'
import { commitSnapshotChanges } from '../snapshots/commitSnapshotChanges.js'
import type { Control } from '../../progress/Control.js'
import type { ForgetPlan } from './ForgetPlan.js'

/** What {@link Repository.forget} removed. */
export interface ForgetResult {
  /** Ids of the removed snapshots. */
  removed: Id[]
}

/**
 * Removes the snapshots a plan from {@link Repository.planForget} marks for removal (see
 * {@link Repository.forget}). Their data stays in the repository until `prune`.
 */
export async function forget(repo: Repository, plan: ForgetPlan, control: Control = {}): Promise<ForgetResult> {
  const ids = [...new Set(plan.remove)]
  const done = await commitSnapshotChanges(repo, ids.map((remove) => ({ remove })), `forget ${ids.length} snapshot(s)`, control)
  return { removed: done.map((d) => d.removed!) }
}
