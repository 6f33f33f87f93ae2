import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { collect } from '../GlobalOptions.js'
import { lazyAction } from '../lazyAction.js'

/** `find PATTERN...`: searches snapshots (newest first) for paths matching glob patterns. */
export function registerFind(program: Command): void {
  withFilterOptions(
    program
      .command('find')
      .description('find files and directories in snapshots by name or path glob (newest snapshot first)')
      .argument('<pattern...>', 'globs: "*.txt" matches names at any depth, "/home/*/x" is anchored at the root')
      .option('-i, --ignore-case', 'ignore case in patterns')
      .option('-l, --long', 'long listing (mode, uid, gid, size, time)')
      .option('-s, --snapshot <id>', 'search only this snapshot (repeatable)', collect)
      .option('-O, --oldest <time>', 'only entries modified at or after this time')
      .option('-N, --newest <time>', 'only entries modified at or before this time'),
  ).action(lazyAction(async () => (await import('./find.action.js')).findAction))
}
