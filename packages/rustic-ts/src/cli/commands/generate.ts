import type { Command } from 'commander'
import { RusticError } from '@rustic-ts/core'
import { writeOut } from '../context.js'
import { cliReference } from '../reference.js'

/** `generate --cli-reference`: documentation made from the program itself (restic's `generate`). */
export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('generate documentation from the program itself')
    .option('--cli-reference', 'print the CLI reference in Markdown (docs/cli.md)')
    .action(async (opts: { cliReference?: boolean }) => {
      if (!opts.cliReference) throw new RusticError('InvalidInput', 'nothing to generate: give --cli-reference', { code: 'InvalidOptions' })
      await writeOut(cliReference(program))
    })
}
