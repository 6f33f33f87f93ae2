import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import type { Repository } from '../../repository/Repository.js'
import { parseOptions } from '../../util/parseOptions.js'
import { AddKeyOptionsSchema, writeKey, type AddKeyOptions } from './addKey.js'
import { refuseAppendOnly } from '../../repository/refuseAppendOnly.js'

/** What {@link Repository.changePassword} did. */
export interface ChangePasswordResult {
  /** The new key file. */
  added: Id
  /** The key file of the old password, removed. */
  removed: Id
}

/**
 * Changes the password of the key in use (restic's `key passwd`): adds a key file for `newPassword`
 * (checked by opening it, as {@link Repository.addKey} does), then removes the key file that opened this repository
 * object. Takes an exclusive lock (as restic 0.14 does). Afterwards this object's `keyId` is the new key.
 * @throws RusticError `NoCurrentKey` for a repository opened with a master key; `NoPassword`;
 *   `AppendOnly`; `KeyVerificationFailed`; `RepositoryLocked`.
 */
export async function changePassword(
  repo: Repository,
  newPassword: string,
  options: AddKeyOptions = {},
  control: Control = {},
): Promise<ChangePasswordResult> {
  const o = parseOptions(AddKeyOptionsSchema, options, 'key options')
  const old = repo.keyId
  if (old === undefined) {
    throw new RusticError('InvalidInput', 'the repository was opened with a master key, not a password: there is no key in use to replace (add a key instead)', {
      code: 'NoCurrentKey',
    })
  }
  refuseAppendOnly(repo.config, 'change the password')
  return repo.withLock(
    'exclusive',
    async (lock) => {
      const added = await writeKey(repo, newPassword, o, lock.signal)
      await lock.verify()
      await repo.backend.remove('key', old, false, { signal: lock.signal })
      return { added, removed: old }
    },
    control,
  )
}
