import { describe, expect, it } from 'vitest'
import { isRusticError, Repository } from '@rustic-ts/core/internal'
import { fastKdf, repoWithKey } from '../memorySnapshots.js'

describe('changePassword', () => {
  it('replaces the key in use', async () => {
    const { backend, repo } = await repoWithKey()
    const old = repo.keyId
    const { added, removed } = await repo.changePassword('renewed', { kdf: fastKdf })
    expect(removed).toBe(old)
    expect(repo.keyId).toBe(added)
    expect(await backend.list('key')).toEqual([added])
    expect((await Repository.open({}, { repository: backend }, { password: 'renewed' })).keyId).toBe(added)
    expect(isRusticError(await Repository.open({}, { repository: backend }, { password: 'first' }).catch((e: unknown) => e), 'IncorrectPassword')).toBe(true)
  })

  it('refuses without a key in use', async () => {
    const { backend, repo } = await repoWithKey()
    const byKey = await Repository.open({}, { repository: backend }, { key: repo.key })
    expect(isRusticError(await byKey.changePassword('x').catch((e: unknown) => e), 'NoCurrentKey')).toBe(true)
  })
})
