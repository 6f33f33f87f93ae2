import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `repoinfo`: counts and sizes of files, blobs and packs, compression and unused data (rustic's `repoinfo`). */
export function registerRepoInfo(program: Command): void {
  program
    .command('repoinfo')
    .description('show counts and sizes of files, blobs and packs, compression and unused data')
    .option('--only-files', 'only the files of each type')
    .option('--only-index', 'only what the index lists (no files, no unused data)')
    .option('--no-unused', 'do not look for unused data (it reads every snapshot\'s trees)')
    .action(lazyAction(async () => (await import('./repoinfo.action.js')).repoinfoAction))
}
