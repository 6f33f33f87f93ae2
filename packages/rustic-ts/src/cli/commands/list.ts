import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** The kinds of repository file `list` lists. */
export const KINDS = ['blobs', 'packs', 'index', 'snapshots', 'keys', 'locks'] as const

/** `list blobs|packs|index|snapshots|keys|locks`: one id a line (blobs: type and id), for scripts. */
export function registerList(program: Command): void {
  program
    .command('list')
    .description('list objects in the repository: blobs, packs, index, snapshots, keys or locks')
    .argument('<type>', KINDS.join('|'))
    .action(lazyAction(async () => (await import('./list.action.js')).listAction))
}
