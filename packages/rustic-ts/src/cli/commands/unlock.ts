import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `unlock [--remove-all]`: removes stale locks (or all), as restic's `unlock`. */
export function registerUnlock(program: Command): void {
  program
    .command('unlock')
    .description('remove stale locks: older than 30 minutes, or left by processes of this host that no longer run')
    .option('--remove-all', 'remove all locks, even live ones (only when no other client uses the repository)')
    .action(lazyAction(async () => (await import('./unlock.action.js')).unlockAction))
}
