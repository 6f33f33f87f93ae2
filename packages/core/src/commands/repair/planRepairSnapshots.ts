import { streamSnapshotFiles } from '../../backend/streamRepoFiles.js'
import { z } from 'zod'
import type { Id } from '../../id/Id.js'
import { type SnapshotFile } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { SnapshotFilterSchema } from '../../repository/SnapshotFilter.js'
import type { Control } from '../../progress/Control.js'
import { parseOptions } from '../../util/parseOptions.js'
import { namedSnapshotIds, selectSnapshots } from '../selectSnapshots.js'
import { repairChangeMessage, TreeRepairer, type RepairChange } from './TreeRepairer.js'

/** Options of `repair snapshots` (restic's flags, rustic's `--tag`). */
export const RepairSnapshotsOptionsSchema = z.object({
  /** Snapshots to repair: ids, id prefixes, `latest` or `latest~N`; default all. */
  snapshots: z.array(z.string()).default([]),
  /** Only snapshots passing this filter. */
  filter: SnapshotFilterSchema.optional(),
  /** Remove each damaged snapshot once its repaired copy is saved (and unreadable snapshot files named in `snapshots`). */
  forget: z.boolean().default(false),
  /** Tag added to the repaired snapshots. */
  tag: z.string().min(1).default('repaired'),
})

/** Options of `repair snapshots`; see {@link RepairSnapshotsOptionsSchema}. */
export type RepairSnapshotsOptions = z.input<typeof RepairSnapshotsOptionsSchema>

/** What happens to one snapshot. */
export interface SnapshotRepair {
  /** The snapshot as it is. */
  snapshot: SnapshotFile
  /** `keep`: nothing to repair; `rewrite`: saved again with `newTree`; `remove`: its root tree cannot be read, so it is removed. */
  action: 'keep' | 'rewrite' | 'remove'
  /** The repaired root tree (for `rewrite`). */
  newTree?: Id
  /** What changes in it. */
  changes: RepairChange[]
}

/** What `repair snapshots` will do (from {@link planRepairSnapshots}); carry it out with `repairSnapshots`. */
export interface RepairSnapshotsPlan {
  /** Every selected snapshot, oldest first. */
  snapshots: SnapshotRepair[]
  /** Snapshot files that cannot be read; removed with `forget` when named in `snapshots`. */
  unreadable: Array<{ id: Id; reason: string; remove: boolean }>
  /** The options the plan was made with. */
  options: z.output<typeof RepairSnapshotsOptionsSchema>
}

/**
 * Finds the damage in the selected snapshots without writing anything, by restic's `repair snapshots`
 * rules: a file whose content blobs are not all indexed (in a pack that exists) keeps the ones that are
 * and gets their total size; a directory whose tree cannot be read becomes empty; a snapshot whose root
 * tree cannot be read is removed. Run `repair index` first when the index itself is damaged.
 */
export async function planRepairSnapshots(
  indexed: IndexedRepository,
  options: RepairSnapshotsOptions = {},
  control: Control = {},
): Promise<RepairSnapshotsPlan> {
  const opts = parseOptions(RepairSnapshotsOptionsSchema, options, 'repair snapshots options')
  const { signal, progress } = indexed.repo.control(control)
  const repo = indexed.repo
  const ids = await repo.backend.list('snapshot', { signal })
  const named = namedSnapshotIds(ids, opts.snapshots)

  const snaps: SnapshotFile[] = []
  const unreadable: RepairSnapshotsPlan['unreadable'] = []
  for await (const s of streamSnapshotFiles(repo.dbe, {
    ids,
    concurrency: repo.options.concurrency,
    signal,
    onError: (id, e) => {
      if (opts.snapshots.length === 0 || named.has(id)) unreadable.push({ id, reason: (e as Error).message, remove: opts.forget && named.has(id) })
    },
  })) {
    snaps.push(s)
  }
  const selected = selectSnapshots(snaps, ids, opts.snapshots, opts.filter)

  const packs = new Set((await repo.backend.list('pack', { signal })).values())
  const repairer = new TreeRepairer(indexed, packs, undefined, signal)
  const p = progress('counter', 'checking snapshots')
  p.setLength(selected.length)
  const plan: RepairSnapshotsPlan = { snapshots: [], unreadable, options: opts }
  for (const snapshot of selected) {
    const tree = await repairer.rewrite(snapshot.tree)
    p.inc(1)
    if (tree.id === undefined) {
      const change = { kind: 'rootUnreadable' as const, path: '/' }
      plan.snapshots.push({ snapshot, action: 'remove', changes: [{ ...change, message: repairChangeMessage(change) }] })
      continue
    }
    const changes = tree.changes.map((c) => ({ ...c, message: repairChangeMessage(c) }))
    if (tree.id === snapshot.tree) plan.snapshots.push({ snapshot, action: 'keep', changes })
    else plan.snapshots.push({ snapshot, action: 'rewrite', newTree: tree.id, changes })
  }
  p.finish()
  return plan
}
