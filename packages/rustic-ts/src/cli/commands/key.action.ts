import type { Command } from 'commander'
import { goTimeToDate, RusticError, shortId, type AddKeyOptions, type Repository } from '@rustic-ts/core'
import { GO_ZERO_TIME, localTimeString, resolvePassword } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { table } from '../format.js'
import { askPassword, globalOptions } from '../GlobalOptions.js'
import { canPrompt } from '../passwordPrompt.js'

/** Flags of `key add` and `key passwd` (restic's). */
interface NewKeyFlags {
  newPasswordFile?: string
  host?: string
  user?: string
}

function keyOptions(opts: NewKeyFlags): AddKeyOptions {
  return { hostname: opts.host, username: opts.user }
}

/**
 * Opens the repository and gets the new password: from `--new-password-file` (read first, so that a bad
 * file fails before anything is opened), else asked for twice on a terminal after the repository's own
 * password, as restic asks; refused when missing or empty.
 */
async function openWithNewPassword(opts: NewKeyFlags, cmd: Command): Promise<{ repo: Repository; password: string }> {
  if (opts.newPasswordFile !== undefined) {
    const password = (await resolvePassword({ passwordFile: opts.newPasswordFile })) ?? ''
    if (password === '') throw new RusticError('Credentials', `the new password file ${opts.newPasswordFile} is empty`, { code: 'NoPassword' })
    return { repo: await openRepo(cmd), password }
  }
  if (!canPrompt()) {
    throw new RusticError('InvalidInput', 'give the new password with --new-password-file FILE (or run on a terminal to be asked for it)', {
      code: 'MissingArgument',
    })
  }
  const repo = await openRepo(cmd)
  try {
    return { repo, password: await askPassword('enter new password: ', true) }
  } catch (e) {
    await repo.close()
    throw e
  }
}

/** The `key list` command's action (loaded when it runs). */
export async function keyListAction(_opts: unknown, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const repo = await openRepo(cmd)
  try {
    const rows = (await repo.listKeys()).map(({ id, current, keyFile }) => ({
      current,
      id: shortId(id),
      userName: keyFile.username,
      hostName: keyFile.hostname,
      created: localTimeString(goTimeToDate(keyFile.created ?? GO_ZERO_TIME)),
    }))
    if (g.json) return await writeOut(JSON.stringify(rows) + '\n')
    await writeOut(table(
      [' ID', 'User', 'Host', 'Created'],
      rows.map((r) => [`${r.current ? '*' : ' '}${r.id}`, r.userName, r.hostName, r.created]),
    ))
  } finally {
    await repo.close()
  }
}

/** The `key add` command's action (loaded when it runs). */
export async function keyAddAction(opts: NewKeyFlags, cmd: Command): Promise<void> {
  const { repo, password } = await openWithNewPassword(opts, cmd)
  try {
    const id = await repo.addKey(password, keyOptions(opts))
    await writeOut(globalOptions(cmd).json ? JSON.stringify({ id }) + '\n' : `saved new key as ${id}\n`)
  } finally {
    await repo.close()
  }
}

/** The `key remove` command's action (loaded when it runs). */
export async function keyRemoveAction(id: string, _opts: unknown, cmd: Command): Promise<void> {
  const repo = await openRepo(cmd)
  try {
    const removed = await repo.removeKey(id)
    await writeOut(globalOptions(cmd).json ? JSON.stringify({ id: removed }) + '\n' : `removed key ${removed}\n`)
  } finally {
    await repo.close()
  }
}

/** The `key passwd` command's action (loaded when it runs). */
export async function keyPasswdAction(opts: NewKeyFlags, cmd: Command): Promise<void> {
  const { repo, password } = await openWithNewPassword(opts, cmd)
  try {
    const { added, removed } = await repo.changePassword(password, keyOptions(opts))
    await writeOut(
      globalOptions(cmd).json ? JSON.stringify({ id: added, removed }) + '\n' : `saved new key as ${added}\nremoved old key ${removed}\n`,
    )
  } finally {
    await repo.close()
  }
}

