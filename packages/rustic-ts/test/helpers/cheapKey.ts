import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository } from '@rustic-ts/core'
import { PASSWORD } from './restic.js'

/**
 * Replaces the key files of a repository (made by `restic init`, whose key restic calibrates to take
 * about half a second to open) by one key for the same password with cheap scrypt parameters
 * (N = 1024), so that each later restic and rustic-ts run opens it fast.
 */
export async function cheapKey(dir: string, password = PASSWORD): Promise<void> {
  const backend = new LocalBackend(dir)
  const repo = await Repository.open({ noCache: true }, { repository: backend }, { password })
  const old = await backend.list('key')
  await repo.addKey(password, { kdf: { N: 1024, r: 8, p: 1 } })
  for (const id of old) await backend.remove('key', id, false)
  await repo.close()
}
