import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { lazyAction } from '../lazyAction.js'

/** `stats [SNAPSHOT...] --mode M`: restic's statistics, with restic's `--json` shape. */
export function registerStats(program: Command): void {
  withFilterOptions(
    program
      .command('stats')
      .description('count files and sizes of snapshots (restic\'s stats)')
      .argument('[snapshots...]', 'snapshot ids, prefixes or latest (default: all passing the filters)')
      .option('--mode <mode>', 'restore-size (default), files-by-contents, blobs-per-file or raw-data', 'restore-size'),
  ).action(lazyAction(async () => (await import('./stats.action.js')).statsAction))
}
