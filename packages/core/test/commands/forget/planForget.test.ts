import { describe, expect, it } from 'vitest'
import { isRusticError } from '@rustic-ts/core/internal'
import { memoryRepo, saveAll, snap } from '../snapshots/helpers.js'

describe('repo.planForget and repo.forget', () => {
  it('plans per group (default host,label,paths), writes nothing, then forget removes the plan', async () => {
    const { repo } = await memoryRepo()
    const snaps = await saveAll(repo, [
      snap('2024-01-01T00:00:00Z', { hostname: 'a' }),
      snap('2024-01-02T00:00:00Z', { hostname: 'a' }),
      snap('2024-01-03T00:00:00Z', { hostname: 'a', label: 'L' }),
      snap('2024-01-04T00:00:00Z', { hostname: 'b' }),
      snap('2024-01-05T00:00:00Z', { hostname: 'b' }),
    ])
    const plan = await repo.planForget({ keepLast: 1 })
    expect(plan.groups.map((g) => [g.group, g.snapshots.map((s) => [s.snapshot.time.slice(0, 10), s.keep])])).toEqual([
      [{ hostname: 'a', label: '', paths: ['/data'] }, [['2024-01-02', true], ['2024-01-01', false]]],
      [{ hostname: 'a', label: 'L', paths: ['/data'] }, [['2024-01-03', true]]],
      [{ hostname: 'b', label: '', paths: ['/data'] }, [['2024-01-05', true], ['2024-01-04', false]]],
    ])
    expect(plan.remove.sort()).toEqual([snaps[0]!.id, snaps[3]!.id].sort())
    expect(await repo.snapshotIds()).toHaveLength(5)
    expect((await repo.forget(plan)).removed.sort()).toEqual(plan.remove.sort())
    expect((await repo.snapshotIds()).sort()).toEqual([snaps[1]!.id, snaps[2]!.id, snaps[4]!.id].sort())
  })

  it('groupBy and filter narrow what is considered', async () => {
    const { repo } = await memoryRepo()
    await saveAll(repo, [
      snap('2024-01-01T00:00:00Z', { hostname: 'a', tags: ['x'] }),
      snap('2024-01-02T00:00:00Z', { hostname: 'a', label: 'L' }),
      snap('2024-01-03T00:00:00Z', { hostname: 'b', tags: ['x'] }),
    ])
    const byHost = await repo.planForget({ keepLast: 1, groupBy: 'host' })
    expect(byHost.remove).toHaveLength(1)
    const onlyX = await repo.planForget({ keepLast: 1, groupBy: '', filter: { tags: [['x']] } })
    expect(onlyX.groups).toHaveLength(1)
    expect(onlyX.groups[0]!.snapshots.map((s) => s.snapshot.hostname)).toEqual(['b', 'a'])
  })

  it('explicit snapshots are forgotten as given, except those their delete policy protects', async () => {
    const { repo } = await memoryRepo()
    const snaps = await saveAll(repo, [
      snap('2024-01-01T00:00:00Z'),
      snap('2024-01-02T00:00:00Z', { delete: { kind: 'never' } }),
      snap('2024-01-03T00:00:00Z'),
    ])
    const plan = await repo.planForget({ snapshots: [snaps[0]!.id!.slice(0, 8), snaps[1]!.id!] })
    expect(plan.groups[0]!.snapshots.map((s) => [s.keep, s.reasons])).toEqual([
      [false, ['given']],
      [true, ['delete: never']],
    ])
    expect(plan.remove).toEqual([snaps[0]!.id])
    await expect(repo.planForget({ snapshots: ['latest'], keepLast: 2 })).rejects.toThrow(/either snapshots to forget or keep options/)
  })

  it('refuses keep options that keep nothing, and invalid options, naming them', async () => {
    const { repo } = await memoryRepo()
    await saveAll(repo, [snap('2024-01-01T00:00:00Z')])
    const none = await repo.planForget({}).catch((e: unknown) => e)
    expect(isRusticError(none, 'NoKeepOption')).toBe(true)
    const bad = await repo.planForget({ keepLast: -2 }).catch((e: unknown) => e)
    expect(isRusticError(bad, 'InvalidOptions')).toBe(true)
    expect((bad as Error).message).toMatch(/^invalid forget options: keepLast: /)
    const dur = await repo.planForget({ keepWithin: '3x' }).catch((e: unknown) => e)
    expect((dur as Error).message).toMatch(/keepWithin: invalid duration "3x"/)
  })

  it('an append-only repository plans, but forget fails with AppendOnly and removes nothing', async () => {
    const { repo } = await memoryRepo(true)
    await saveAll(repo, [snap('2024-01-01T00:00:00Z'), snap('2024-01-02T00:00:00Z')])
    const plan = await repo.planForget({ keepLast: 1 })
    expect(plan.remove).toHaveLength(1)
    const err = await repo.forget(plan).catch((e: unknown) => e)
    expect(isRusticError(err, 'AppendOnly')).toBe(true)
    expect(await repo.snapshotIds()).toHaveLength(2)
  })
})
