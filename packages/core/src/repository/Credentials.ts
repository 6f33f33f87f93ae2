import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { Key } from '../crypto/index.js'
import { RusticError } from '../error/RusticError.js'
import { runCommand } from '../util/command.js'

/** How to unlock a repository: exactly one of a password, a password file, a password command or a master key. */
export const CredentialsSchema = z
  .object({
    /** The password itself. */
    password: z.string().optional(),
    /** A file whose content (surrounding whitespace trimmed) is the password. */
    passwordFile: z.string().optional(),
    /** A command (run without a shell) that prints the password on stdout. */
    passwordCommand: z.string().optional(),
    /** An already opened master key; skips the key files. */
    key: z.custom<Key>((v) => v === undefined || v instanceof Key).optional(),
  })
  .refine((c) => [c.password, c.passwordFile, c.passwordCommand, c.key].filter((x) => x !== undefined).length <= 1, {
    message: 'give only one of password, passwordFile, passwordCommand and key',
  })

/** How to unlock a repository; see {@link CredentialsSchema}. */
export type Credentials = z.input<typeof CredentialsSchema>

/** Resolves the password from credentials (reads the file or runs the command). Returns undefined when a key is given. */
export async function resolvePassword(credentials: Credentials, signal?: AbortSignal): Promise<string | undefined> {
  const parsed = CredentialsSchema.safeParse(credentials)
  if (!parsed.success) {
    throw new RusticError('Credentials', `invalid credentials: ${parsed.error.issues.map((i) => i.message).join('; ')}`, {
      code: 'InvalidCredentials',
    })
  }
  const c = parsed.data
  if (c.key) return undefined
  if (c.password !== undefined) return c.password
  if (c.passwordFile !== undefined) {
    try {
      return (await readFile(c.passwordFile, 'utf8')).trim()
    } catch (e) {
      throw new RusticError('Credentials', `cannot read password file ${c.passwordFile}: ${(e as Error).message}`, {
        code: 'NoPassword',
        cause: e,
      })
    }
  }
  if (c.passwordCommand !== undefined) {
    // Its output is never quoted in errors: it may hold the password.
    const { stdout } = await runCommand(c.passwordCommand, 'password command', { signal, quoteStderr: false })
    return stdout.toString('utf8').trim()
  }
  throw new RusticError('Credentials', 'no password given: set a password, password file or password command', {
    code: 'NoPassword',
  })
}
