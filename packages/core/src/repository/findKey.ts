import type { WriteBackend } from '../backend/Backend.js'
import { fileName } from '../backend/DecryptBackend.js'
import { zstdProvider } from '../compression/index.js'
import { poly1305Provider, type Key, type KeyDeriver } from '../crypto/index.js'
import { isRusticError, RusticError } from '../error/RusticError.js'
import { hashId, type Id } from '../id/Id.js'
import type { WarningHandler } from '../progress/Progress.js'
import { openKeyFile, parseKeyFile, type KeyFile } from '../repofile/index.js'

/**
 * Finds the key file that opens with `password` and returns the master key (restic's `SearchKey`).
 *
 * Key files are tried in listing order. A key file that cannot be read or decoded (bad JSON, bad
 * base64, a salt of the wrong length, bytes that do not hash to its name) is skipped with a warning
 * naming it, where restic 0.14 would stop: another key may still open the repository.
 *
 * @param derive - derives each key file's user key from the password (default scrypt, `deriveKey`).
 * @throws RusticError `NoKeys` when there are no key files; `IncorrectPassword` only when at least one
 *   key was tried with the password and none opened; otherwise (every key file undecodable) the decode
 *   error of the first, which names it.
 */
export async function findKey(
  backend: WriteBackend,
  password: string,
  onWarning: WarningHandler | undefined,
  derive?: KeyDeriver,
): Promise<{ key: Key; keyId: Id }> {
  const ids = await backend.list('key')
  if (ids.length === 0) {
    throw new RusticError('Repository', `no key files in ${backend.location()}: the repository cannot be opened`, {
      code: 'NoKeys',
    })
  }
  let tried = 0
  const unreadable: RusticError[] = []
  for (const id of ids) {
    const what = fileName('key', id)
    let keyFile: KeyFile
    try {
      const bytes = await backend.readFull('key', id)
      if (hashId(bytes) !== id) {
        throw new RusticError('Verification', `${what} is corrupted: its content does not hash to its name`, { code: 'IntegrityError' })
      }
      keyFile = parseKeyFile(bytes, what)
    } catch (e) {
      if (!isRusticError(e) || e.code === 'Aborted') throw e
      unreadable.push(e)
      onWarning?.(`skipping ${what}: ${e.message}`, e)
      continue
    }
    const opening = openKeyFile(keyFile, password, what, derive)
    // The key derivation (scrypt) runs on the thread pool: meanwhile, load the native Poly1305 and zstd that
    // opening the key and reading the repository need next, off the critical path of start-up.
    poly1305Provider()
    zstdProvider()
    try {
      return { key: await opening, keyId: id }
    } catch (e) {
      if (isRusticError(e, 'IncorrectPassword')) {
        tried++
        continue
      }
      throw e
    }
  }
  if (tried > 0) {
    const skipped = unreadable.length > 0 ? ` (${unreadable.length} more could not be decoded)` : ''
    throw new RusticError(
      'Credentials',
      `incorrect password for ${backend.location()}: none of its ${tried} readable key file(s) opens with it${skipped}`,
      { code: 'IncorrectPassword' },
    )
  }
  const first = unreadable[0]!
  const more = unreadable.length > 1 ? ` (and ${unreadable.length - 1} other key file(s) likewise)` : ''
  throw new RusticError('Repository', `no key of ${backend.location()} can be used: ${first.message}${more}`, {
    code: first.code,
    cause: first,
  })
}
