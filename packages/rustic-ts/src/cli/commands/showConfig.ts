import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `show-config`: prints the merged profiles, the environment and the repository flags over them, as TOML (or JSON). */
export function registerShowConfig(program: Command): void {
  program
    .command('show-config')
    .description('print the configuration the profiles (-P), the environment and the flags make, passwords masked')
    .action(lazyAction(async () => (await import('./showConfig.action.js')).showConfigAction))
}
