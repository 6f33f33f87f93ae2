import { fileName } from '../../backend/DecryptBackend.js'
import { isRusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import { parseKeyFile, type KeyFile } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'

/** A key file with its id. */
export interface KeyInfo {
  id: Id
  /** True for the key file that opened this repository object. */
  current: boolean
  keyFile: KeyFile
}

/**
 * The repository's key files (restic's `key list`). A key file that cannot be read or decoded is left out
 * with a warning naming it, as restic does. Takes a shared lock (as restic 0.14 does).
 */
export async function listKeys(repo: Repository, control: Control = {}): Promise<KeyInfo[]> {
  const { onWarning } = repo.control(control)
  return repo.withLock(
    'shared',
    async ({ signal }) => {
      const keys: KeyInfo[] = []
      for (const id of await repo.backend.list('key', { signal })) {
        throwIfAborted(signal)
        try {
          keys.push({ id, current: id === repo.keyId, keyFile: parseKeyFile(await repo.backend.readFull('key', id, { signal }), fileName('key', id)) })
        } catch (e) {
          if (!isRusticError(e) || e.code === 'Aborted') throw e
          onWarning(`skipping key ${id}: ${e.message}`, e)
        }
      }
      return keys
    },
    control,
  )
}
