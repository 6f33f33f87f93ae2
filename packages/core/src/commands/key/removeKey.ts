import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import { findIdByPrefix, type Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import { refuseAppendOnly } from '../../repository/refuseAppendOnly.js'
import type { Repository } from '../../repository/Repository.js'

/**
 * Removes a key file, named by its id or a unique prefix (restic's `key remove`). Refuses the key that
 * opened this repository object (its password would stop working while it is in use) and the last key
 * (nothing would open the repository any more). Takes an exclusive lock (as restic 0.14 does).
 * @returns the removed key file's id.
 * @throws RusticError `KeyInUse`, `LastKey`, `AppendOnly`, `IdNotFound`, `AmbiguousId`; `RepositoryLocked`.
 */
export async function removeKey(repo: Repository, key: string, control: Control = {}): Promise<Id> {
  refuseAppendOnly(repo.config, 'remove a key')
  return repo.withLock(
    'exclusive',
    async (lock) => {
      const signal = lock.signal
      const ids = await repo.backend.list('key', { signal })
      const id = findIdByPrefix(ids, key.toLowerCase(), 'key')
      if (id === repo.keyId) {
        throw new RusticError('InvalidInput', `refusing to remove key ${id}: it is the key in use (change the password with key passwd instead)`, {
          code: 'KeyInUse',
        })
      }
      if (ids.length <= 1) {
        throw new RusticError('InvalidInput', `refusing to remove key ${id}: it is the repository's last key, without it nothing opens the repository`, {
          code: 'LastKey',
        })
      }
      throwIfAborted(signal)
      await lock.verify()
      await repo.backend.remove('key', id, false, { signal })
      return id
    },
    control,
  )
}
