import { describe, expect, it } from 'vitest'
import { isRusticError } from '@rustic-ts/core/internal'
import { memoryRepo, saveAll, snap } from './helpers.js'

describe('repo.deleteSnapshots', () => {
  it('removes snapshots given as loaded snapshots or ids, or selected by a filter', async () => {
    const { repo } = await memoryRepo()
    const [a, b, c] = await saveAll(repo, [
      snap('2024-01-01T00:00:00Z', { hostname: 'x' }),
      snap('2024-01-02T00:00:00Z', { hostname: 'y' }),
      snap('2024-01-03T00:00:00Z', { hostname: 'y' }),
    ])
    expect((await repo.deleteSnapshots([a!.id!])).removed).toEqual([a!.id])
    const byFilter = await repo.getSnapshots({ hosts: ['y'] })
    expect((await repo.deleteSnapshots(byFilter)).removed.sort()).toEqual([b!.id, c!.id].sort())
    expect(await repo.snapshotIds()).toEqual([])
  })

  it('refuses never and future-after snapshots unless forced, removing nothing', async () => {
    const { repo } = await memoryRepo()
    const snaps = await saveAll(repo, [
      snap('2024-01-01T00:00:00Z'),
      snap('2024-01-02T00:00:00Z', { delete: { kind: 'never' } }),
      snap('2024-01-03T00:00:00Z', { delete: { kind: 'after', time: '2999-01-01T00:00:00Z' } }),
      snap('2024-01-04T00:00:00Z', { delete: { kind: 'after', time: '2000-01-01T00:00:00Z' } }),
    ])
    for (const [s, why] of [[snaps[1]!, 'delete: never'], [snaps[2]!, 'delete: after 2999-01-01T00:00:00Z']] as const) {
      const err = await repo.deleteSnapshots([snaps[0]!, s.id!]).catch((e: unknown) => e)
      expect(isRusticError(err, 'SnapshotProtected')).toBe(true)
      expect((err as Error).message).toContain(why)
      expect(await repo.snapshotIds()).toHaveLength(4)
    }
    expect((await repo.deleteSnapshots([snaps[3]!])).removed).toEqual([snaps[3]!.id])
    const missing = await repo.deleteSnapshots(['0'.repeat(64) as never]).catch((e: unknown) => e)
    expect(isRusticError(missing, 'IdNotFound')).toBe(true)
    expect((await repo.deleteSnapshots(snaps.slice(0, 3), { force: true })).removed).toHaveLength(3)
    expect(await repo.snapshotIds()).toEqual([])
  })

  it('an append-only repository refuses with AppendOnly; a snapshot already gone only warns', async () => {
    const ro = await memoryRepo(true)
    const [s] = await saveAll(ro.repo, [snap('2024-01-01T00:00:00Z')])
    const err = await ro.repo.deleteSnapshots([s!], { force: true }).catch((e: unknown) => e)
    expect(isRusticError(err, 'AppendOnly')).toBe(true)
    expect(await ro.repo.snapshotIds()).toEqual([s!.id])

    const { repo } = await memoryRepo()
    const [t] = await saveAll(repo, [snap('2024-01-01T00:00:00Z')])
    await repo.deleteSnapshots([t!])
    const warnings: string[] = []
    expect((await repo.deleteSnapshots([t!], {}, { onWarning: (m) => warnings.push(m) })).removed).toEqual([t!.id])
    expect(warnings).toEqual([`snapshot ${t!.id!.slice(0, 8)} was already removed`])
  })
})
