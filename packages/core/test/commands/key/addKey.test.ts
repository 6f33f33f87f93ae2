import { describe, expect, it } from 'vitest'
import { isRusticError, Repository } from '@rustic-ts/core/internal'
import { fastKdf, repoWithKey } from '../memorySnapshots.js'

describe('addKey and listKeys', () => {
  it('add, list (the key in use marked), remove another key; the new password opens the repository', async () => {
    const { backend, repo } = await repoWithKey()
    const added = await repo.addKey('second', { kdf: fastKdf, username: 'alice', hostname: 'laptop' })
    const keys = await repo.listKeys()
    expect(keys.map((k) => [k.id, k.current]).sort()).toEqual([[added, false], [repo.keyId, true]].sort())
    expect(keys.find((k) => k.id === added)!.keyFile).toMatchObject({ username: 'alice', hostname: 'laptop', N: 1024 })
    const other = await Repository.open({}, { repository: backend }, { password: 'second' })
    expect(other.keyId).toBe(added)
    expect(await repo.removeKey(added.slice(0, 6))).toBe(added)
    expect(isRusticError(await Repository.open({}, { repository: backend }, { password: 'second' }).catch((e: unknown) => e), 'IncorrectPassword')).toBe(true)
  })

  it('refuses an empty password and lists no broken key file', async () => {
    const { backend, repo } = await repoWithKey()
    expect(isRusticError(await repo.addKey('').catch((e: unknown) => e), 'NoPassword')).toBe(true)
    await backend.writeBytes('key', 'ab'.repeat(32) as never, false, new TextEncoder().encode('{not json'))
    const warnings: string[] = []
    expect((await repo.listKeys({ onWarning: (m) => warnings.push(m) })).map((k) => k.id)).toEqual([repo.keyId])
    expect(warnings).toEqual([expect.stringContaining(`skipping key ${'ab'.repeat(32)}`)])
  })
})
