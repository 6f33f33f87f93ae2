import type { Command } from 'commander'
import { RusticError } from '@rustic-ts/core'
import { writeOut } from '../context.js'
import { cliReference } from '../reference.js'

/** The `generate` command's action (loaded when it runs). */
export async function generateAction(opts: { cliReference?: boolean }, cmd: Command): Promise<void> {
  if (!opts.cliReference) throw new RusticError('InvalidInput', 'nothing to generate: give --cli-reference', { code: 'InvalidOptions' })
  await writeOut(cliReference(cmd.parent ?? cmd))
}

