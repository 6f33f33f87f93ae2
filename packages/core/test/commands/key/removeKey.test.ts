import { describe, expect, it } from 'vitest'
import { isRusticError, Repository } from '@rustic-ts/core/internal'
import { fastKdf, repoWithKey } from '../memorySnapshots.js'

describe('removeKey', () => {
  it('refuses to remove the key in use and the last key', async () => {
    const { backend, repo } = await repoWithKey()
    expect(isRusticError(await repo.removeKey(repo.keyId!).catch((e: unknown) => e), 'KeyInUse')).toBe(true)
    const byKey = await Repository.open({}, { repository: backend }, { key: repo.key })
    expect(isRusticError(await byKey.removeKey(repo.keyId!).catch((e: unknown) => e), 'LastKey')).toBe(true)
    expect(isRusticError(await repo.removeKey('ffff').catch((e: unknown) => e), 'IdNotFound')).toBe(true)
    expect(await backend.list('key')).toHaveLength(1)
  })

  it('takes an exclusive lock: another client holding a shared lock makes it fail', async () => {
    const { backend, repo } = await repoWithKey()
    const added = await repo.addKey('second', { kdf: fastKdf })
    const other = await Repository.open({}, { repository: backend }, { password: 'second' })
    const held = await other.lock('shared')
    try {
      expect(isRusticError(await repo.removeKey(added).catch((e: unknown) => e), 'RepositoryLocked')).toBe(true)
    } finally {
      await held.release()
    }
    expect(await repo.removeKey(added)).toBe(added)
  })
})
