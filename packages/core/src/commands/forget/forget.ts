import type { Id } from '../../id/Id.js'
import type { Repository } from '../../repository/Repository.js'
import type { PrunePlan, PruneResult } from '../prune/PrunePlan.js'
import { commitSnapshotChanges } from '../snapshots/commitSnapshotChanges.js'
import type { Control } from '../../progress/Control.js'
import type { ForgetPlan } from './ForgetPlan.js'

/** What {@link Repository.forget} removed. */
export interface ForgetResult {
  /** Ids of the removed snapshots. */
  removed: Id[]
  /** The prune that followed (with the plan's `prune` options, when snapshots were removed). */
  prune?: { plan: PrunePlan; result: PruneResult }
}

/**
 * Removes the snapshots a plan from {@link Repository.planForget} marks for removal (see
 * {@link Repository.forget}). Their data stays in the repository until `prune`; a plan made with
 * `prune` prunes right after, under the same exclusive lock (unless its `ignoreLocks`).
 */
export async function forget(repo: Repository, plan: ForgetPlan, control: Control = {}): Promise<ForgetResult> {
  const ids = [...new Set(plan.remove)]
  const remove = async (): Promise<ForgetResult> => {
    const done = await commitSnapshotChanges(repo, ids.map((remove) => ({ remove })), `forget ${ids.length} snapshot(s)`, control)
    return { removed: done.map((d) => d.removed!) }
  }
  const pruneOptions = plan.prune
  if (pruneOptions === undefined) return remove()
  const removeAndPrune = async (): Promise<ForgetResult> => {
    const result = await remove()
    if (result.removed.length === 0) return result
    const prunePlan = await repo.planPrune(pruneOptions, control)
    return { ...result, prune: { plan: prunePlan, result: await repo.prune(prunePlan, control) } }
  }
  return pruneOptions.ignoreLocks ? removeAndPrune() : repo.withLock('exclusive', removeAndPrune, control)
}
