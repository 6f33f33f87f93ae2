import { z } from 'zod'
import { isRusticError, RusticError } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import { CreateKeyFileOptionsSchema, createKeyFile, openKeyFile, parseKeyFile } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { parseOptions } from '../../util/parseOptions.js'

/** Options of {@link Repository.addKey}: what the new key file records, and its scrypt parameters. */
export const AddKeyOptionsSchema = CreateKeyFileOptionsSchema.pick({ username: true, hostname: true, kdf: true })

/** Options of {@link Repository.addKey}; see {@link AddKeyOptionsSchema}. */
export type AddKeyOptions = z.input<typeof AddKeyOptionsSchema>

/**
 * Adds a key file that opens the repository's master key with `password` (restic's `key add`), then
 * reads it back and opens it, as restic does: a key that does not open (a storage fault) is removed
 * again and the call fails. Holds a shared lock, as restic 0.14 does. The user and host recorded default
 * to the current user and this machine.
 * @returns the new key file's id.
 * @throws RusticError `NoPassword` for an empty password; `InvalidKdfParams`; `KeyVerificationFailed`.
 */
export async function addKey(repo: Repository, password: string, options: AddKeyOptions = {}, control: Control = {}): Promise<Id> {
  const o = parseOptions(AddKeyOptionsSchema, options, 'key options')
  return repo.withLock('shared', (lock) => writeKey(repo, password, o, lock.signal), control)
}

/** Writes a new key file for the master key and checks that it opens; the caller holds the lock. */
export async function writeKey(
  repo: Repository,
  password: string,
  o: z.output<typeof AddKeyOptionsSchema>,
  signal: AbortSignal | undefined,
): Promise<Id> {
  if (password === '') throw new RusticError('Credentials', 'the new password is empty: an empty password is not allowed', { code: 'NoPassword' })
  const { bytes } = await createKeyFile(repo.key, password, o)
  const id = hashId(bytes)
  await repo.backend.writeBytes('key', id, false, bytes, { signal })
  try {
    const stored = await repo.backend.readFull('key', id, { signal })
    if (hashId(stored) !== id || !(await openKeyFile(parseKeyFile(stored, `key ${id}`), password, `key ${id}`)).equals(repo.key)) {
      throw new RusticError('Verification', `key ${id} does not open the repository`, { code: 'IntegrityError' })
    }
  } catch (e) {
    if (isRusticError(e, 'Aborted')) throw e
    await repo.backend.remove('key', id, false).catch(() => {})
    throw new RusticError('Repository', `the new key ${id} could not be read back and opened, so it was removed again: ${(e as Error).message}`, {
      code: 'KeyVerificationFailed',
      cause: e,
    })
  }
  return id
}
