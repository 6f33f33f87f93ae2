import type { Command } from 'commander'
import { RusticError, type PackAction, type PruneOptions, type PrunePlan, type PruneResult } from '@rustic-ts/core'
import { openRepo, writeOut } from '../context.js'
import { table } from '../format.js'
import { globalOptions } from '../GlobalOptions.js'
import { humanBytes } from '../progressBar.js'
import type { PruneFlags } from './prune.js'

/** Prune options from the flags (restic's and rustic's names). */
export function pruneOptionsFrom(f: PruneFlags): PruneOptions {
  if (f.maxRepack !== undefined && f.maxRepackSize !== undefined) {
    throw new RusticError('InvalidInput', '--max-repack and --max-repack-size are the same option: give one', { code: 'InvalidOptions' })
  }
  const maxRepack = f.maxRepack ?? f.maxRepackSize
  return {
    dryRun: f.dryRun ?? false,
    ...(f.maxUnused !== undefined && { maxUnused: f.maxUnused }),
    ...(maxRepack !== undefined && { maxRepack }),
    ...(f.keepPack !== undefined && { keepPack: f.keepPack }),
    ...(f.keepDelete !== undefined && { keepDelete: f.keepDelete }),
    instantDelete: f.instantDelete ?? false,
    repackUncompressed: f.repackUncompressed ?? false,
    repackSmall: f.repackSmall ?? false,
    repackAll: f.repackAll ?? false,
    repackCacheableOnly: f.repackCacheableOnly ?? false,
    noResize: !f.resize,
    fastRepack: f.fastRepack ?? false,
    ignoreLocks: f.ignoreLocks ?? false,
  }
}

/** A prune's plan (without blob lists) and result as one JSON line. */
export function pruneJson(plan: PrunePlan, result: PruneResult): string {
  return `${JSON.stringify({ plan: planJson(plan), result })}\n`
}

/** The plan without the blob lists (what `--json` prints). */
function planJson(plan: PrunePlan): unknown {
  return {
    ...plan,
    packs: plan.packs.map(({ blobs, copy, ...p }) => ({ ...p, blobs: blobs.length, ...(copy && { copyBlobs: copy.length }) })),
  }
}

const ACTION_NAMES: Record<PackAction, string> = {
  keep: 'keep',
  repack: 'repack',
  markDelete: 'mark for deletion',
  delete: 'delete',
  recover: 'recover (marked, needed again)',
  keepMarked: 'keep marked',
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0.00%' : `${((100 * part) / whole).toFixed(2)}%`
}

/** The plan as two tables: blobs and bytes by use, packs by action. */
export function planText(plan: PrunePlan): string {
  const s = plan.stats
  const t = s.totals
  const blobs = (f: 'used' | 'unused' | 'repack' | 'repackRemove' | 'remove'): number => s.blobs.data[f] + s.blobs.tree[f]
  const totalBlobs = blobs('used') + blobs('unused')
  const pruneBlobs = blobs('remove') + blobs('repackRemove')
  const rows = [
    ['used', String(blobs('used')), humanBytes(t.used)],
    ['unused', String(blobs('unused')), humanBytes(t.unused)],
    ...(t.unindexed > 0 ? [['unreferenced packs', `${s.unindexed.packs} packs`, humanBytes(t.unindexed)]] : []),
    ['total', String(totalBlobs), humanBytes(t.total)],
    ['to repack', String(blobs('repack')), humanBytes(t.repack)],
    ['this removes', String(blobs('repackRemove')), humanBytes(t.repackRemove)],
    ['to remove', String(blobs('remove')), humanBytes(t.remove)],
    ['total prune', String(pruneBlobs), humanBytes(t.prune)],
    ['remaining', String(totalBlobs - pruneBlobs), humanBytes(t.remaining)],
  ]
  const packRows = (Object.keys(ACTION_NAMES) as PackAction[])
    .filter((a) => s.actions[a].packs > 0)
    .map((a) => [ACTION_NAMES[a], String(s.actions[a].packs), humanBytes(s.actions[a].bytes)])
  const when = plan.options.instantDelete
    ? 'packs are removed at once (--instant-delete)'
    : `packs marked now are removed by a prune at least ${formatMs(plan.options.keepDelete)} from now`
  return (
    table(['', 'blobs', 'size'], rows) +
    `unused size after prune: ${humanBytes(t.unusedAfter)} (${percent(t.unusedAfter, t.remaining)} of remaining size)\n\n` +
    table(['packs', 'count', 'size'], packRows) +
    `index files: ${s.indexFiles.total}, ${s.indexFiles.rewrite} to rewrite; ${when}\n`
  )
}

/** What the prune did, one line per kind of change. */
export function resultText(plan: PrunePlan, r: PruneResult): string {
  if (r.dryRun) return 'dry run: nothing was changed\n'
  const lines: string[] = []
  if (r.blobsRepacked > 0) lines.push(`repacked ${r.blobsRepacked} blobs (${humanBytes(r.bytesRepacked)}) into ${r.packsWritten} new packs`)
  if (r.packsRecovered > 0) lines.push(`recovered ${r.packsRecovered} marked packs that snapshots need again`)
  if (r.packsMarked > 0) lines.push(`marked ${r.packsMarked} packs for deletion (a prune after ${formatMs(plan.options.keepDelete)} removes them)`)
  lines.push(`removed ${r.packsRemoved} packs (${humanBytes(r.bytesRemoved)})`)
  lines.push(`index files: wrote ${r.indexFilesWritten.length}, removed ${r.indexFilesRemoved.length}`)
  return lines.join('\n') + '\n'
}

/** A duration in the largest whole units (`23h`, `1h30m`, `90s`, `0s`). */
function formatMs(ms: number): string {
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]]
  let left = Math.round(ms / 1000) * 1000
  let out = ''
  for (const [u, n] of units) {
    if (left >= n) {
      out += `${Math.floor(left / n)}${u}`
      left %= n
    }
  }
  return out || '0s'
}

/** The `prune` command's action (loaded when it runs). */
export async function pruneAction(flags: PruneFlags, c: Command): Promise<void> {
  const g = globalOptions(c)
  const options = pruneOptionsFrom(flags)
  const repo = await openRepo(c)
  try {
    const run = async (): Promise<void> => {
      const plan = await repo.planPrune(options)
      if (!g.json && !g.quiet) await writeOut(planText(plan))
      const result = await repo.prune(plan)
      if (g.json) await writeOut(pruneJson(plan, result))
      else if (!g.quiet) await writeOut(resultText(plan, result))
    }
    // one lock from the plan to the end, so that nothing changes in between
    if (options.ignoreLocks) await run()
    else await repo.withLock('exclusive', run)
  } finally {
    await repo.close()
  }
}

