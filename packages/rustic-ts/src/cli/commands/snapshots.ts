import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { lazyAction } from '../lazyAction.js'

/** A list as Go writes a nil-or-empty slice restic groups by: `null` when empty or not grouped by. */
export function nullIfEmpty(list: string[] | undefined): string[] | null {
  return list === undefined || list.length === 0 ? null : list
}

/** `snapshots`: lists snapshots, grouped (text: as rustic prints them; `--json`: restic's shapes). */
export function registerSnapshots(program: Command): void {
  withFilterOptions(
    program
      .command('snapshots')
      .description('list snapshots')
      .argument('[ids...]', 'snapshots to list: ids, id prefixes, latest, latest~N (default: all passing the filters)')
      .option('-g, --group-by <fields>', 'group by host, label, paths and/or tags, separated by commas ("" = no grouping; default host,label,paths)')
      .option('--latest <n>', 'only the newest N snapshots of each group')
      .option('--all', 'a row for every snapshot (default: follow-up snapshots with the same tree share one row, marked (+N))'),
  ).action(lazyAction(async () => (await import('./snapshots.action.js')).snapshotsAction))
}
