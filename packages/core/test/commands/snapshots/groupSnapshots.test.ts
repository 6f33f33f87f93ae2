import { describe, expect, it } from 'vitest'
import { formatGroupCriterion, groupSnapshotList, isRusticError, parseGroupCriterion } from '@rustic-ts/core/internal'
import { memoryRepo, saveAll, snap } from './helpers.js'

describe('grouping snapshots', () => {
  it('parses --group-by as restic and rustic write it, and refuses unknown words', () => {
    expect(parseGroupCriterion('host,label,paths')).toEqual({ hostname: true, label: true, paths: true, tags: false })
    expect(parseGroupCriterion('hosts,path,tag')).toEqual({ hostname: true, label: false, paths: true, tags: true })
    expect(parseGroupCriterion('')).toEqual({ hostname: false, label: false, paths: false, tags: false })
    expect(formatGroupCriterion(parseGroupCriterion('tags,host'))).toBe('host,tags')
    let err: unknown
    try {
      parseGroupCriterion('host,size')
    } catch (e) {
      err = e
    }
    expect(isRusticError(err, 'InvalidOptions')).toBe(true)
    expect((err as Error).message).toContain('"size"')
  })

  it('groups by any of host, label, paths, tags; paths and tags compare as sorted sets', () => {
    const s = [
      snap('2024-01-01T00:00:00Z', { hostname: 'b', paths: ['/y', '/x'], tags: ['t2', 't1'] }),
      snap('2024-01-02T00:00:00Z', { hostname: 'a', paths: ['/x', '/y'], tags: ['t1', 't2'], label: 'L' }),
      snap('2024-01-03T00:00:00Z', { hostname: 'b', paths: ['/x', '/y'], tags: ['t1'] }),
    ]
    const byDefault = groupSnapshotList(s, parseGroupCriterion('host,label,paths'))
    expect(byDefault.map((g) => g.group)).toEqual([
      { hostname: 'a', label: 'L', paths: ['/x', '/y'] },
      { hostname: 'b', label: '', paths: ['/x', '/y'] },
    ])
    expect(byDefault[1]!.snapshots).toEqual([s[0], s[2]])
    const byTags = groupSnapshotList(s, parseGroupCriterion('tags'))
    expect(byTags.map((g) => [g.group, g.snapshots.length])).toEqual([
      [{ tags: ['t1'] }, 1],
      [{ tags: ['t1', 't2'] }, 2],
    ])
    const none = groupSnapshotList(s, parseGroupCriterion(''))
    expect(none).toHaveLength(1)
    expect(none[0]!.group).toEqual({})
    expect(groupSnapshotList([], parseGroupCriterion(''))).toEqual([])
  })

  it('repo.groupSnapshots filters, groups (default host,label,paths) and keeps the newest N of each group', async () => {
    const { repo } = await memoryRepo()
    await saveAll(repo, [
      snap('2024-01-01T00:00:00Z', { hostname: 'a' }),
      snap('2024-01-02T00:00:00Z', { hostname: 'a' }),
      snap('2024-01-03T00:00:00Z', { hostname: 'a' }),
      snap('2024-01-04T00:00:00Z', { hostname: 'b' }),
      snap('2024-01-05T00:00:00Z', { hostname: 'c', tags: ['x'] }),
    ])
    const groups = await repo.groupSnapshots({ latest: 2 })
    expect(groups.map((g) => [g.group.hostname, g.snapshots.map((s) => s.time.slice(0, 10))])).toEqual([
      ['a', ['2024-01-02', '2024-01-03']],
      ['b', ['2024-01-04']],
      ['c', ['2024-01-05']],
    ])
    const filtered = await repo.groupSnapshots({ filter: { tags: [['x']] }, groupBy: 'host' })
    expect(filtered.map((g) => g.group)).toEqual([{ hostname: 'c' }])
    await expect(repo.groupSnapshots({ groupBy: 'nope' })).rejects.toThrow(/invalid group snapshots options: .*unknown grouping "nope"/)
  })
})
