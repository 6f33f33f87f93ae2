import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `diff SNAP1[:PATH] SNAP2[:PATH]`: what changed between two snapshots, as restic prints it. */
export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('show the differences between two snapshots (+ added, - removed, M modified, T type changed, U metadata)')
    .argument('<snapshot1>', 'SNAP[:PATH]')
    .argument('<snapshot2>', 'SNAP[:PATH]')
    .option('--metadata', 'also show entries whose metadata changed (U)')
    .action(lazyAction(async () => (await import('./diff.action.js')).diffAction))
}
