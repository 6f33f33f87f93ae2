import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `generate --cli-reference`: documentation made from the program itself (restic's `generate`). */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('generate documentation from the program itself')
    .option('--cli-reference', 'print the CLI reference in Markdown (docs/cli.md)')
    .action(lazyAction(async () => (await import('./generate.action.js')).generateAction))
}
