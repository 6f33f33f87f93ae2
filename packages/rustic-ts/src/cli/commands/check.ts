import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { lazyAction } from '../lazyAction.js'

/** `check`: checks the repository, prints the findings, fails when any is an error. */
export function registerCheck(program: Command): void {
  withFilterOptions(
    program
      .command('check')
      .description('check the repository for errors; with --read-data also read and verify every pack')
      .argument('[snapshots...]', 'only walk these snapshots (ids, id prefixes, latest); default all')
      .option('--read-data', 'read all packs and verify every blob')
      .option('--read-data-subset <subset>', "read a subset of the packs: 'n/m' (group n of m), 'P%' or a size like 500M")
      .option('--trust-cache', 'do not compare the cache with the repository'),
  ).action(lazyAction(async () => (await import('./check.action.js')).checkAction))
}
