import type { Command } from 'commander'
import { RusticError } from '@rustic-ts/core'
import { withFilterOptions } from '../filterFlags.js'
import { collect } from '../GlobalOptions.js'
import { withPruneFlags } from './prune.js'
import { lazyAction } from '../lazyAction.js'

/** Count flags: flag name, short flag, option key. */
export const COUNT_FLAGS = [
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
export const WITHIN_FLAGS = [
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

function countArg(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < -1) throw new RusticError('InvalidInput', `bad --${flag} "${v}": expected a whole number, or -1 for all`, { code: 'InvalidOptions' })
    return n
  }
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
  withPruneFlags(withFilterOptions(cmd, { shortHost: false })).action(lazyAction(async () => (await import('./forget.action.js')).forgetAction))
}
