import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `cat config|key|snapshot|index ID|blob ID|tree SNAP[:PATH]`: prints a decrypted repository object. */
export function registerCat(program: Command): void {
  program
    .command('cat')
    .description('print a decrypted repository object: config, key ID, snapshot ID, index ID, blob ID, tree SNAP[:PATH]')
    .argument('<type>', 'config | key | snapshot | index | blob | tree')
    .argument('[id]', 'id or unique id prefix (tree: SNAP[:PATH])')
    .action(lazyAction(async () => (await import('./cat.action.js')).catAction))
}
