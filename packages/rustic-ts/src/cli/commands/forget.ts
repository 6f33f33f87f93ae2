import type { Command } from 'commander'
import { RusticError, shortId, type ForgetGroup, type ForgetOptions, type ForgetPlan, type Id, type KeepCounters } from '@rustic-ts/core'
import { goJson, parseCalendarDuration, parseGroupCriterion, RawJson, serializeSnapshot } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, withFilterOptions, type FilterFlags } from '../filterFlags.js'
import { snapshotJson, table } from '../format.js'
import { collect, globalOptions } from '../GlobalOptions.js'
import { withProfileOptions } from '../profileOptions.js'
import { groupHeader, snapshotCells, SNAPSHOT_COLUMNS } from '../snapshotTable.js'
import { planText as prunePlanText, pruneJson, pruneOptionsFrom, resultText as pruneResultText, withPruneFlags, type PruneFlags } from './prune.js'
import { nullIfEmpty } from './snapshots.js'

/** Count flags: flag name, short flag, option key. */
const COUNT_FLAGS = [
  ['keep-last', 'l', 'keepLast', 'the last N snapshots'],
  ['keep-minutely', 'M', 'keepMinutely', 'the newest snapshot of each of the last N minutes'],
  ['keep-hourly', 'H', 'keepHourly', 'the newest snapshot of each of the last N hours'],
  ['keep-daily', 'd', 'keepDaily', 'the newest snapshot of each of the last N days'],
  ['keep-weekly', 'w', 'keepWeekly', 'the newest snapshot of each of the last N weeks'],
  ['keep-monthly', 'm', 'keepMonthly', 'the newest snapshot of each of the last N months'],
  ['keep-quarter-yearly', undefined, 'keepQuarterYearly', 'the newest snapshot of each of the last N quarters'],
  ['keep-half-yearly', undefined, 'keepHalfYearly', 'the newest snapshot of each of the last N half-years'],
  ['keep-yearly', 'y', 'keepYearly', 'the newest snapshot of each of the last N years'],
] as const

/** Duration flags: flag name, option key. */
const WITHIN_FLAGS = [
  ['keep-within', 'keepWithin', 'every snapshot'],
  ['keep-within-minutely', 'keepWithinMinutely', 'minutely snapshots'],
  ['keep-within-hourly', 'keepWithinHourly', 'hourly snapshots'],
  ['keep-within-daily', 'keepWithinDaily', 'daily snapshots'],
  ['keep-within-weekly', 'keepWithinWeekly', 'weekly snapshots'],
  ['keep-within-monthly', 'keepWithinMonthly', 'monthly snapshots'],
  ['keep-within-quarter-yearly', 'keepWithinQuarterYearly', 'quarter-yearly snapshots'],
  ['keep-within-half-yearly', 'keepWithinHalfYearly', 'half-yearly snapshots'],
  ['keep-within-yearly', 'keepWithinYearly', 'yearly snapshots'],
] as const

/** The option keys of the keep policy. */
const KEEP_KEYS = [...COUNT_FLAGS.map((f) => f[2]), ...WITHIN_FLAGS.map((f) => f[1]), 'keepTag', 'keepId', 'keepNone']

type ForgetFlags = FilterFlags &
  PruneFlags &
  Record<string, unknown> & { keepTag?: string[]; keepId?: string[]; keepNone?: boolean; deleteUnchanged?: boolean; groupBy?: string; dryRun?: boolean; prune?: boolean }

function countArg(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < -1) throw new RusticError('InvalidInput', `bad --${flag} "${v}": expected a whole number, or -1 for all`, { code: 'InvalidOptions' })
    return n
  }
}

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
            snapshot: new RawJson(new TextDecoder().decode(serializeSnapshot(s.snapshot))),
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

/** `forget`: removes snapshots by the keep policy (restic's and rustic's flags), or the snapshots given. */
export function registerForget(program: Command): void {
  const cmd = program
    .command('forget')
    .description('remove snapshots by a keep policy (their data stays until prune)')
    .argument('[snapshots...]', 'forget exactly these (ids, id prefixes, latest, latest~N) instead of applying a policy')
  for (const [flag, short, , what] of COUNT_FLAGS) {
    cmd.option(`${short ? `-${short}, ` : ''}--${flag} <n>`, `keep ${what} (-1: all)`, countArg(flag))
  }
  for (const [flag, , what] of WITHIN_FLAGS) {
    cmd.option(`--${flag} <duration>`, `keep ${what} newer than this before the newest snapshot (e.g. 1y5m7d2h, m = months; 30d; 36h)`)
  }
  cmd
    .option('--keep-tag <tags>', 'keep snapshots with all these tags, as tag[,tag,...] (repeatable: any of them)', collect)
    .option('--keep-id <id>', 'keep snapshots whose id starts with this (repeatable)', collect)
    .option('--keep-none', 'allow keeping no snapshot (needed to forget everything)')
    .option('--delete-unchanged', 'remove a snapshot when the next older one of its group has the same tree')
    .option('-g, --group-by <fields>', 'group by host, label, paths and/or tags, separated by commas ("" = one group)', 'host,label,paths')
    .option('-n, --dry-run', 'only show what would be removed (and, with --prune, what pruning would do)')
    .option('--prune', 'prune once snapshots are removed (with the prune flags below)')
  withPruneFlags(withFilterOptions(cmd, { shortHost: false })).action(async (ids: string[], opts: ForgetFlags, c: Command) => {
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
  })
}

/** The line a dry run prints about the snapshots it would remove. */
function wouldRemove(ids: readonly Id[]): string {
  return `would remove ${ids.length} snapshot(s): ${ids.map(shortId).join(', ')}\n`
}
