import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { collect } from '../GlobalOptions.js'
import { lazyAction } from '../lazyAction.js'

/** `merge [SNAPSHOT...]`: merges snapshots into a new one (rustic's `merge`: the last modified entry wins). */
export function registerMerge(program: Command): void {
  withFilterOptions(
    program
      .command('merge')
      .description('merge snapshots into a new snapshot: all their paths, the last modified entry winning')
      .argument('[snapshots...]', 'snapshot ids, prefixes or latest (default: all passing the filters)')
      .option('--delete', 'remove the merged snapshots afterwards (not those their delete policy protects)')
      .option('--set-tag <tags>', 'tags of the new snapshot, comma separated (repeatable)', collect)
      .option('--set-host <host>', 'host of the new snapshot (default: the merged snapshots\' when they share one, else this machine)')
      .option('--set-label <label>', 'label of the new snapshot')
      .option('--set-description <text>', 'description of the new snapshot')
      .option('--set-time <time>', 'time of the new snapshot: 2024-05-01 12:00:00 local, or RFC 3339 (default: the latest merged snapshot\'s)')
      .option('--delete-never', 'mark the new snapshot to be never deleted by forget')
      .option('--delete-after <duration>', 'mark the new snapshot deletable only after a duration (e.g. 30d) or date'),
  ).action(lazyAction(async () => (await import('./merge.action.js')).mergeAction))
}

