import type { Command } from 'commander'
import { shortId, type ForgetGroup, type ForgetOptions, type ForgetPlan, type Id, type KeepCounters } from '@rustic-ts/core'
import { goJson, parseCalendarDuration, parseGroupCriterion, RawJson, snapshotJsonText } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { snapshotJson, table } from '../format.js'
import { globalOptions } from '../GlobalOptions.js'
import { withProfileOptions } from '../profileOptions.js'
import { groupHeader, snapshotCells, SNAPSHOT_COLUMNS } from '../snapshotTable.js'
import type { PruneFlags } from './prune.js'
import { planText as prunePlanText, pruneJson, pruneOptionsFrom, resultText as pruneResultText } from './prune.action.js'
import { nullIfEmpty } from './snapshots.js'
import { COUNT_FLAGS, WITHIN_FLAGS } from './forget.js'

/** The option keys of the keep policy. */
const KEEP_KEYS = [...COUNT_FLAGS.map((f) => f[2]), ...WITHIN_FLAGS.map((f) => f[1]), 'keepTag', 'keepId', 'keepNone']

type ForgetFlags = FilterFlags &
  PruneFlags &
  Record<string, unknown> & { keepTag?: string[]; keepId?: string[]; keepNone?: boolean; deleteUnchanged?: boolean; groupBy?: string; dryRun?: boolean; prune?: boolean }

/** The forget options the flags ask for. */
function forgetOptionsFrom(ids: string[], o: ForgetFlags): ForgetOptions {
  const opts: Record<string, unknown> = {
    filter: filterFrom(o),
    groupBy: parseGroupCriterion(o.groupBy ?? 'host,label,paths'),
    snapshots: ids,
    keepTags: o.keepTag ?? [],
    keepIds: o.keepId ?? [],
    keepNone: o.keepNone ?? false,
    deleteUnchanged: o.deleteUnchanged ?? false,
  }
  for (const [, , key] of COUNT_FLAGS) if (o[key] !== undefined) opts[key] = o[key]
  for (const [flag, key] of WITHIN_FLAGS) if (o[key] !== undefined) opts[key] = parseCalendarDuration(String(o[key]), `--${flag}`)
  return opts as ForgetOptions
}

/** restic's JSON counters: `last`, `hourly`, `daily`, `weekly`, `monthly`, `yearly` (0 left out), then rustic's. */
function countersJson(c: KeepCounters = {}): Record<string, number | undefined> {
  const nz = (n: number | undefined): number | undefined => (n === 0 ? undefined : n)
  return {
    last: nz(c.last),
    hourly: nz(c.hourly),
    daily: nz(c.daily),
    weekly: nz(c.weekly),
    monthly: nz(c.monthly),
    yearly: nz(c.yearly),
    minutely: nz(c.minutely),
    quarter_yearly: nz(c.quarterYearly),
    half_yearly: nz(c.halfYearly),
  }
}

/** A group as restic's `forget --json` prints it: `tags`, `host`, `paths`, `keep`, `remove`, `reasons` (plus `label` when grouped by it). */
function groupJson(g: ForgetGroup): Record<string, unknown> {
  const kept = g.snapshots.filter((s) => s.keep)
  const removed = g.snapshots.filter((s) => !s.keep)
  const list = (l: typeof kept): RawJson[] | null => (l.length === 0 ? null : l.map((s) => new RawJson(snapshotJson(s.snapshot))))
  return {
    tags: nullIfEmpty(g.group.tags),
    host: g.group.hostname ?? '',
    paths: nullIfEmpty(g.group.paths),
    keep: list(kept),
    remove: list(removed),
    reasons:
      kept.length === 0
        ? null
        : kept.map((s) => ({
            snapshot: new RawJson(snapshotJsonText(s.snapshot)),
            matches: s.reasons,
            counters: countersJson(s.counters),
          })),
    label: g.group.label || undefined,
  }
}

/** The plan as text: per group a table with what happens to each snapshot and why. */
function planText(plan: ForgetPlan): string {
  let text = ''
  for (const g of plan.groups) {
    const rows = [...g.snapshots].reverse().map((s) => [...snapshotCells(s.snapshot).slice(0, 6), s.keep ? 'keep' : 'remove', s.reasons.join('\n')])
    text += `${groupHeader(g.group)}${table([...SNAPSHOT_COLUMNS.slice(0, 6), 'Action', 'Reason'], rows)}\n`
  }
  return text
}

/** The line a dry run prints about the snapshots it would remove. */
function wouldRemove(ids: readonly Id[]): string {
  return `would remove ${ids.length} snapshot(s): ${ids.map(shortId).join(', ')}\n`
}

/** The `forget` command's action (loaded when it runs). */
export async function forgetAction(ids: string[], opts: ForgetFlags, c: Command): Promise<void> {
  const g = globalOptions(c)
  // forgetting given snapshots: the profile's keep policy does not apply
  if (ids.length > 0) for (const key of KEEP_KEYS) if (c.getOptionValueSource(key) === 'config') opts[key] = undefined
  const options = withProfileOptions(ids.length > 0 ? undefined : g.profile?.forget, forgetOptionsFrom(ids, opts))
  if (opts.prune) options.prune = pruneOptionsFrom({ ...opts, dryRun: false })
  const repo = await openRepo(c)
  try {
    const plan = await repo.planForget(options)
    let pruned: Awaited<ReturnType<typeof repo.forget>>['prune']
    if (!opts.dryRun && plan.remove.length > 0) pruned = (await repo.forget(plan)).prune
    else if (plan.prune && plan.remove.length > 0) {
      // what pruning would do once these snapshots are gone (as restic's forget --prune --dry-run)
      const prunePlan = await repo.planPrune({ ...plan.prune, dryRun: true, ignoreSnapshots: plan.remove })
      pruned = { plan: prunePlan, result: await repo.prune(prunePlan) }
    }
    if (g.json) {
      await writeOut(goJson(plan.groups.map(groupJson)) + '\n')
      if (pruned) await writeOut(pruneJson(pruned.plan, pruned.result))
      return
    }
    if (g.quiet) {
      // as restic's -q: nothing, except what a dry run would remove
      if (opts.dryRun && plan.remove.length > 0) await writeOut(wouldRemove(plan.remove))
      return
    }
    let text = planText(plan)
    if (plan.remove.length === 0) text += 'no snapshots to remove\n'
    else if (opts.dryRun) text += wouldRemove(plan.remove)
    else text += `removed ${plan.remove.length} snapshot(s)\n`
    if (pruned) text += `\n${prunePlanText(pruned.plan)}${pruneResultText(pruned.plan, pruned.result)}`
    await writeOut(text)
  } finally {
    await repo.close()
  }
}

