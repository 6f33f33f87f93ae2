import type { Command } from 'commander'
import { goTimeToDate, RusticError, shortId } from '@rustic-ts/core'
import { GO_ZERO_TIME, localTimeString, resolvePassword } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { table } from '../format.js'
import { askPassword, globalOptions } from '../GlobalOptions.js'
import { canPrompt } from '../passwordPrompt.js'

/** The new password of `key add`: from the file, else asked twice on the terminal. */
async function newPassword(file: string | undefined): Promise<string> {
  if (file === undefined) {
    if (!canPrompt()) throw new RusticError('Credentials', 'no new password given: use --new-password-file', { code: 'NoPassword' })
    return askPassword('enter new password: ', true)
  }
  const password = (await resolvePassword({ passwordFile: file })) ?? ''
  if (password === '') throw new RusticError('Credentials', `the new password file ${file} is empty`, { code: 'NoPassword' })
  return password
}

/** `key list`: lists the repository's key files. */
export function registerKey(program: Command): void {
  const key = program.command('key').description('manage keys (passwords)')
  key
    .command('list')
    .description('list key files')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd)
      const repo = await openRepo(cmd)
      try {
        const keys = await repo.listKeys()
        const rows = keys.map(({ id, keyFile }) => ({
          current: id === repo.keyId,
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
    })
  key
    .command('add')
    .description('add a key file for a new password, read from --new-password-file or asked for on the terminal')
    .option('--new-password-file <file>', 'file holding the new password')
    .action(async (opts: { newPasswordFile?: string }, cmd: Command) => {
      const repo = await openRepo(cmd)
      let password: string
      try {
        password = await newPassword(opts.newPasswordFile)
      } catch (e) {
        await repo.close()
        throw e
      }
      try {
        const id = await repo.addKey(password)
        await writeOut(`saved new key as ${shortId(id)}\n`)
      } finally {
        await repo.close()
      }
    })
}
