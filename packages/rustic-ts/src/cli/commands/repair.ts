import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { lazyAction } from '../lazyAction.js'

/** `repair index` and `repair snapshots`. */
export function registerRepair(program: Command): void {
  const repair = program.command('repair').description('repair a damaged repository')
  repair
    .command('index')
    .description('rebuild the index from the pack headers: add unindexed packs, drop missing ones, fix wrong entries')
    .option('--read-all-packs', 'read every pack header and rebuild the whole index')
    .option('-n, --dry-run', 'only show what would be done')
    .action(lazyAction(async () => (await import('./repair.action.js')).repairIndexAction))
  withFilterOptions(
    repair
      .command('snapshots')
      .description('rewrite snapshots whose trees refer to missing blobs (files lose the missing content, unreadable directories become empty)')
      .argument('[snapshots...]', 'snapshots to repair (ids, id prefixes, latest); default all')
      .option('--forget', 'remove the damaged snapshots once their repaired copies are saved')
      .option('--add-tag <tag>', 'tag added to the repaired snapshots', 'repaired')
      .option('-n, --dry-run', 'only show what would be done'),
  ).action(lazyAction(async () => (await import('./repair.action.js')).repairSnapshotsAction))
}
