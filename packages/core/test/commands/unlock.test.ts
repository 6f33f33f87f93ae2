import { describe, expect, it } from 'vitest'
import { hashId, isRusticError } from '@rustic-ts/core/internal'
import { deadPid, memoryRepo, plantLock, thisHost } from '../repository/lock/helpers.js'

describe('unlock', () => {
  it('removes stale locks (old, or of a dead process on this host) and keeps live ones', async () => {
    const { repo } = await memoryRepo()
    const old = await plantLock(repo, { exclusive: true, ageMs: 31 * 60_000 })
    const dead = await plantLock(repo, { hostname: thisHost, pid: await deadPid() })
    const elsewhere = await plantLock(repo, { hostname: 'elsewhere', pid: 1, ageMs: 60_000 })
    const mine = await plantLock(repo, { hostname: thisHost, pid: process.pid })
    const result = await repo.unlock()
    expect(result.removed.map((l) => l.id).sort()).toEqual([old, dead].sort())
    expect(result.removed.map((l) => l.stale).sort()).toEqual(['dead-process', 'old'])
    expect(result.kept.map((l) => l.id).sort()).toEqual([elsewhere, mine].sort())
    expect((await repo.backend.list('lock')).sort()).toEqual([elsewhere, mine].sort())
  })

  it('removeAll removes every lock file, unreadable ones too', async () => {
    const { repo } = await memoryRepo()
    await plantLock(repo)
    await plantLock(repo, { exclusive: true })
    const garbage = new Uint8Array([9, 9, 9])
    await repo.backend.writeBytes('lock', hashId(garbage), false, garbage)
    const warnings: string[] = []
    const result = await repo.unlock({ removeAll: true }, { onWarning: (m) => warnings.push(m) })
    expect(result.removed).toHaveLength(2)
    expect(result.removedFiles).toBe(3)
    expect(await repo.backend.list('lock')).toEqual([])
    expect(warnings.some((w) => w.includes('ignoring lock'))).toBe(true)
  })

  it('rejects invalid options with InvalidOptions', async () => {
    const { repo } = await memoryRepo()
    const err = await repo.unlock({ removeAll: 'yes' as never }).catch((e: unknown) => e)
    expect(isRusticError(err, 'InvalidOptions')).toBe(true)
    expect((err as Error).message).toContain('removeAll')
  })
})
