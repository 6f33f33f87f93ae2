import { z } from 'zod'
import { throwIfAborted } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import type { SnapshotFile } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { resolveSnapshotsOrAll } from '../../repository/resolveSnapshot.js'
import { SnapshotFilterSchema } from '../../repository/SnapshotFilter.js'
import { parseOptions } from '../../util/parseOptions.js'
import { compareSnapshotGroups, snapshotGroupKey, snapshotGroupOf, type SnapshotGroup } from './SnapshotGroup.js'
import { SnapshotGroupCriterionSchema, type SnapshotGroupCriterion } from './SnapshotGroupCriterion.js'

/** Snapshots of one group, oldest first. */
export interface GroupedSnapshots {
  /** What the snapshots have in common. */
  group: SnapshotGroup
  /** The snapshots, oldest first. */
  snapshots: SnapshotFile[]
}

/** Options of {@link Repository.groupSnapshots}. */
export const GroupSnapshotsOptionsSchema = z.object({
  /** Which snapshots to list (default: all). */
  filter: SnapshotFilterSchema.default({ hosts: [], paths: [], tags: [], labels: [] }),
  /**
   * Only these snapshots (ids, id prefixes, `latest`, `latest~N` among those passing `filter`), as
   * restic's `snapshots ID...`; default: every snapshot passing `filter`.
   */
  snapshots: z.array(z.string()).default([]),
  /** How to group them: `"host,label,paths"` (default), `"host"`, `""` (one group), or a criterion object. */
  groupBy: SnapshotGroupCriterionSchema,
  /** Only the newest N of each group (restic's `snapshots --latest N`); 0 = all. */
  latest: z.number().int().nonnegative().default(0),
})

/** Options of {@link Repository.groupSnapshots} (input form: every field optional). */
export type GroupSnapshotsOptions = z.input<typeof GroupSnapshotsOptionsSchema>

/**
 * Splits snapshots into groups (rustic's `Grouped::from_items`): groups ordered by host, label, paths, tags;
 * the snapshots of each in the order given. With no grouping there is one group with an empty key
 * (none at all for no snapshots).
 */
export function groupSnapshotList(snapshots: readonly SnapshotFile[], criterion: SnapshotGroupCriterion): GroupedSnapshots[] {
  const groups = new Map<string, GroupedSnapshots>()
  for (const snap of snapshots) {
    const group = snapshotGroupOf(snap, criterion)
    const key = snapshotGroupKey(group)
    let g = groups.get(key)
    if (!g) groups.set(key, (g = { group, snapshots: [] }))
    g.snapshots.push(snap)
  }
  return [...groups.values()].sort((a, b) => compareSnapshotGroups(a.group, b.group))
}

/**
 * Reads the snapshots passing the filter and groups them (see {@link Repository.groupSnapshots}); a snapshot
 * file that cannot be read is left out with a warning.
 */
export async function groupSnapshots(
  repo: Repository,
  options: GroupSnapshotsOptions = {},
  control: Control = {},
): Promise<GroupedSnapshots[]> {
  const o = parseOptions(GroupSnapshotsOptionsSchema, options, 'group snapshots options')
  const { signal, progress, onWarning } = repo.control(control)
  const snaps = await resolveSnapshotsOrAll(repo, o.snapshots, o.filter, { signal, progress, onWarning })
  throwIfAborted(signal)
  const groups = groupSnapshotList(snaps, o.groupBy)
  if (o.latest > 0) for (const g of groups) g.snapshots = g.snapshots.slice(-o.latest)
  return groups
}
