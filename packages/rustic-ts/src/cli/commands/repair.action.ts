import type { Command } from 'commander'
import { shortId, type RepairIndexPlan, type RepairSnapshotsPlan, type RepairSnapshotsResult } from '@rustic-ts/core'
import { goJson, repairIndexChanges } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { globalOptions } from '../GlobalOptions.js'

/** What `repair index` does, in restic's words. */
function indexPlanText(plan: RepairIndexPlan): string {
  const lines: string[] = []
  for (const f of plan.invalidIndexFiles) lines.push(`removing invalid index ${f.id}: ${f.reason}`)
  for (const id of plan.added) lines.push(`adding pack file to index ${id}`)
  for (const p of plan.reindexed) {
    lines.push(p.indexedSize === undefined ? `reindexing pack file ${p.id}` : `reindexing pack file ${p.id} with unexpected size ${p.size} instead of ${p.indexedSize}`)
  }
  for (const id of plan.removed) lines.push(`removing not found pack file ${id}`)
  for (const p of plan.unreadable) lines.push(`skipped incomplete pack file: ${p.id}: ${p.reason}`)
  return lines.map((l) => l + '\n').join('')
}

/** What `repair snapshots` does to each snapshot, in restic's words. */
function snapshotsText(plan: RepairSnapshotsPlan, result: RepairSnapshotsResult | undefined): string {
  const out: string[] = []
  const saved = new Map(result?.saved.map((s) => [s.original, s.id]))
  const removed = new Set(result?.removed)
  for (const u of plan.unreadable) {
    out.push(`snapshot file ${u.id} is unreadable: ${u.reason}`)
    if (u.remove) out.push(result ? `removed unreadable snapshot ${u.id}` : `would remove unreadable snapshot ${u.id}`)
    else out.push(`  use \`rustic-ts repair snapshots --forget ${u.id}\` to remove it`)
  }
  let modified = 0
  for (const s of plan.snapshots) {
    const id = s.snapshot.id!
    out.push('', `snapshot ${shortId(id)} of [${s.snapshot.paths.join(' ')}] at ${s.snapshot.time}`)
    for (const c of s.changes) out.push(`  ${c.message}`)
    if (s.action === 'keep') continue
    modified++
    if (s.action === 'remove') {
      out.push(result ? `removed empty snapshot ${shortId(id)}` : 'would delete empty snapshot')
      continue
    }
    if (!result) {
      out.push('would save new snapshot')
      if (plan.options.forget) out.push('would remove old snapshot')
      continue
    }
    const newId = saved.get(id)
    if (newId) out.push(`saved new snapshot ${shortId(newId)}`)
    if (removed.has(id)) out.push(`removed old snapshot ${shortId(id)}`)
  }
  out.push('')
  if (modified === 0) out.push(result ? 'no snapshots were modified' : 'no snapshots would be modified')
  else out.push(result ? `modified ${modified} snapshots` : `would modify ${modified} snapshots`)
  return out.map((l) => l + '\n').join('')
}

/** The `repair index` command's action (loaded when it runs). */
export async function repairIndexAction(opts: { readAllPacks?: boolean; dryRun?: boolean }, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const repo = await openRepo(cmd)
  try {
    const plan = await repo.planRepairIndex({ readAllPacks: opts.readAllPacks ?? false })
    const result = opts.dryRun ? undefined : await repo.repairIndex(plan)
    if (g.json) {
      const { packs: _p, packsToDelete: _d, ...rest } = plan
      return await writeOut(goJson({ ...rest, dryRun: opts.dryRun ?? false, written: result?.written ?? [], removedIndexFiles: result?.removed ?? [] }) + '\n')
    }
    let text = indexPlanText(plan)
    if (!repairIndexChanges(plan)) text += 'the index matches the packs: nothing to do\n'
    else if (!result) text += `would write new index files for ${plan.packs.length + plan.packsToDelete.length} packs and remove ${plan.obsoleteIndexFiles.length} index files\n`
    else text += `wrote ${result.written.length} new index files, removed ${result.removed.length} old ones\n`
    await writeOut(text)
  } finally {
    await repo.close()
  }
}

/** The `repair snapshots` command's action (loaded when it runs). */
export async function repairSnapshotsAction(snapshots: string[], opts: FilterFlags & { forget?: boolean; addTag: string; dryRun?: boolean }, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const repo = await openRepo(cmd)
  try {
    const indexed = await repo.toIndexed()
    const plan = await indexed.planRepairSnapshots({ snapshots, filter: filterFrom(opts), forget: opts.forget ?? false, tag: opts.addTag })
    const result = opts.dryRun ? undefined : await indexed.repairSnapshots(plan)
    if (g.json) {
      const snaps = plan.snapshots.map((s) => ({ id: s.snapshot.id, action: s.action, newTree: s.newTree, changes: s.changes }))
      return await writeOut(goJson({ snapshots: snaps, unreadable: plan.unreadable, dryRun: opts.dryRun ?? false, ...(result ?? {}) }) + '\n')
    }
    await writeOut(snapshotsText(plan, result))
  } finally {
    await repo.close()
  }
}

