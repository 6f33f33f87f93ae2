import type { Command } from 'commander'
import { Repository, RusticError } from '@rustic-ts/core'
import { backendsOf, repositoryOptions, writeOut } from '../context.js'
import { credentialsFrom, globalOptions } from '../GlobalOptions.js'

/** The `init` command's action (loaded when it runs). */
export async function initAction(opts: { repositoryVersion: string }, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const version = Number(opts.repositoryVersion)
  if (version !== 1 && version !== 2) {
    throw new RusticError('InvalidInput', `bad --repository-version "${opts.repositoryVersion}": use 1 or 2`, { code: 'InvalidOptions' })
  }
  const repo = await Repository.init(repositoryOptions(g), await backendsOf(g), await credentialsFrom(g, true), { version })
  await writeOut(
    g.json
      ? JSON.stringify({ message_type: 'initialized', id: repo.id, repository: repo.location() }) + '\n'
      : `created repository ${repo.id.slice(0, 10)} (version ${version}) at ${repo.location()}\n`,
  )
  await repo.close()
}

