import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { collect } from '../GlobalOptions.js'
import { lazyAction } from '../lazyAction.js'

/** `ls SNAP[:PATH]`: lists a snapshot's files (`--json`: restic's line-delimited node objects). */
export function registerLs(program: Command): void {
  withFilterOptions(
    program
      .command('ls')
      .description('list files in a snapshot')
      .argument('<snapshot>', 'SNAP[:PATH]: latest, latest~N, an id or id prefix, optionally with a path inside')
      .option('-l, --long', 'long format (mode, uid, gid, size, time)')
      .option('--no-recursive', 'only the entries directly below PATH')
      .option('-i, --include <glob>', 'only list paths matching (repeatable)', collect)
      .option('-e, --exclude <glob>', 'do not list paths matching (repeatable)', collect),
  ).action(lazyAction(async () => (await import('./ls.action.js')).lsAction))
}
