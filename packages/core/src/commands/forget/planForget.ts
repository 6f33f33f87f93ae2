import { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import { formatLocalGoTime } from '../../repofile/goTime.js'
import type { Repository } from '../../repository/Repository.js'
import { parsePruneOptions, type PruneOptions } from '../prune/PruneOptions.js'
import { resolveSnapshots } from '../../repository/resolveSnapshot.js'
import { SnapshotFilterSchema } from '../../repository/SnapshotFilter.js'
import { parseOptions } from '../../util/parseOptions.js'
import { deletePolicyAt } from '../snapshots/deletePolicy.js'
import { groupSnapshotList } from '../snapshots/groupSnapshots.js'
import { SnapshotGroupCriterionSchema } from '../snapshots/SnapshotGroupCriterion.js'
import { applyKeepOptions } from './applyKeepOptions.js'
import type { ForgetGroup, ForgetPlan } from './ForgetPlan.js'
import { checkKeepOptions, hasKeepOption, KeepOptionsSchema } from './KeepOptions.js'

/**
 * Options of {@link Repository.planForget}: the keep options ({@link KeepOptionsSchema}), which snapshots
 * to consider and how to group them.
 */
export const ForgetOptionsSchema = KeepOptionsSchema.extend({
  /** Only consider snapshots passing this filter. */
  filter: SnapshotFilterSchema.default({ hosts: [], paths: [], tags: [], labels: [] }),
  /** How to group snapshots before keeping: `"host,label,paths"` (default), `"host"`, `""`, or a criterion object. */
  groupBy: SnapshotGroupCriterionSchema,
  /**
   * Forget exactly these snapshots (ids, id prefixes, `latest`, `latest~N`) instead of applying keep
   * options; snapshots whose delete policy protects them are kept.
   */
  snapshots: z.array(z.string()).default([]),
  /** The time delete policies are judged at and snapshots count as "in the future" after (default: now). */
  now: z.date().optional(),
  /**
   * Prune once the snapshots are removed (restic's and rustic's `forget --prune`): `true`, or the prune
   * options (see `PruneOptionsSchema`; `planForget` refuses invalid ones, before anything is removed).
   * Nothing is pruned when no snapshot is removed.
   */
  prune: z.union([z.boolean(), z.custom<PruneOptions>((v) => typeof v === 'object' && v !== null && !Array.isArray(v))]).default(false),
})

/** Options of {@link Repository.planForget} (input form: every field optional, but one keep option is needed). */
export type ForgetOptions = z.input<typeof ForgetOptionsSchema>

/**
 * Works out what `forget` removes (see {@link Repository.planForget}); reads snapshots, writes nothing.
 * A snapshot file that cannot be read is neither kept nor removed: it is left out of the plan with a
 * warning, so it counts towards no keep rule and stays in the repository (restic's forget does the same).
 */
export async function planForget(repo: Repository, options: ForgetOptions, control: Control = {}): Promise<ForgetPlan> {
  const o = parseOptions(ForgetOptionsSchema, options, 'forget options')
  const prune = o.prune === false ? undefined : o.prune === true ? {} : o.prune
  // invalid prune options are refused now, not after forget has removed the snapshots
  if (prune !== undefined) parsePruneOptions(prune)
  const now = o.now ?? new Date()
  const { signal, progress, onWarning } = repo.control(control)
  let groups: ForgetGroup[]
  if (o.snapshots.length > 0) {
    if (hasKeepOption(o)) {
      throw new RusticError('InvalidInput', 'give either snapshots to forget or keep options, not both', { code: 'InvalidOptions' })
    }
    const nowNs = BigInt(now.getTime()) * 1_000_000n
    const snaps = await resolveSnapshots(repo, o.snapshots, o.filter, { signal, onWarning })
    groups = [
      {
        group: {},
        snapshots: snaps.map((snapshot) => {
          const policy = deletePolicyAt(snapshot, nowNs)
          return policy.state === 'protected'
            ? { snapshot, keep: true, reasons: [policy.reason] }
            : { snapshot, keep: false, reasons: ['given'] }
        }),
      },
    ]
  } else {
    checkKeepOptions(o)
    const snaps = await repo.getSnapshots(o.filter, { signal, progress, onWarning })
    groups = groupSnapshotList(snaps, o.groupBy).map((g) => ({ group: g.group, snapshots: applyKeepOptions(g.snapshots, o, now) }))
  }
  const remove = groups.flatMap((g) => g.snapshots.filter((s) => !s.keep).map((s) => s.snapshot.id!))
  const plan: ForgetPlan = { groups, remove, now: formatLocalGoTime(BigInt(now.getTime()) * 1_000_000n) }
  if (prune !== undefined) plan.prune = prune
  return plan
}
