import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `init`: creates a repository. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a new repository')
    .option('--repository-version <n>', 'repository version: 1, or 2 (compression)', '2')
    .action(lazyAction(async () => (await import('./init.action.js')).initAction))
}
