import { describe, expect, it } from 'vitest'
import { hasTagList, isFilterSet, matchesFilter, SnapshotFilterSchema } from '@rustic-ts/core/internal'
import { memoryRepo, saveAll, snap } from '../commands/snapshots/helpers.js'

describe('SnapshotFilter', () => {
  const a = snap('2024-05-01T10:00:00+02:00', { hostname: 'a', tags: ['x', 'y'], paths: ['/p', '/q'], label: 'L' })
  const b = snap('2024-05-02T10:00:00Z', { hostname: 'b', tags: [], paths: ['/p'] })

  it('tags as restic: a list needs all its tags, any list will do, "" selects untagged snapshots', () => {
    expect(hasTagList(a, [['x', 'y']])).toBe(true)
    expect(hasTagList(a, [['x', 'z']])).toBe(false)
    expect(hasTagList(a, [['x', 'z'], ['y']])).toBe(true)
    expect(hasTagList(a, [])).toBe(true)
    expect(hasTagList(b, [['']])).toBe(true)
    expect(hasTagList(a, [['']])).toBe(false)
  })

  it('hosts (any), paths (all), labels (any, "" = none)', () => {
    expect(matchesFilter(a, { hosts: ['b', 'a'] })).toBe(true)
    expect(matchesFilter(a, { hosts: ['b'] })).toBe(false)
    expect(matchesFilter(a, { paths: ['/p', '/q'] })).toBe(true)
    expect(matchesFilter(b, { paths: ['/p', '/q'] })).toBe(false)
    expect(matchesFilter(a, { labels: ['L'] })).toBe(true)
    expect(matchesFilter(b, { labels: [''] })).toBe(true)
    expect(matchesFilter(b, { labels: ['L'] })).toBe(false)
  })

  it('time range: after is inclusive, before exclusive, compared as instants', () => {
    expect(matchesFilter(a, { after: '2024-05-01T08:00:00Z' })).toBe(true)
    expect(matchesFilter(a, { after: new Date('2024-05-01T08:00:00.001Z') })).toBe(false)
    expect(matchesFilter(a, { before: '2024-05-01T08:00:00Z' })).toBe(false)
    expect(matchesFilter(a, { before: '2024-05-01T08:00:01Z' })).toBe(true)
    expect(SnapshotFilterSchema.parse({ after: '2024-05-01' }).after).toBeInstanceOf(Date)
    expect(SnapshotFilterSchema.safeParse({ after: 'yesterday' }).success).toBe(false)
  })

  it('a custom predicate', () => {
    expect(matchesFilter(a, { predicate: (s) => s.paths.length === 2 })).toBe(true)
    expect(matchesFilter(b, { predicate: (s) => s.paths.length === 2 })).toBe(false)
    expect(isFilterSet({})).toBe(false)
    expect(isFilterSet({ predicate: () => true })).toBe(true)
  })

  it('findSnapshots resolves many strings at once, in order, without repeats', async () => {
    const { repo } = await memoryRepo()
    const snaps = await saveAll(repo, [
      snap('2024-01-01T00:00:00Z', { tags: ['k'] }),
      snap('2024-01-02T00:00:00Z'),
      snap('2024-01-03T00:00:00Z', { tags: ['k'] }),
      snap('2024-01-04T00:00:00Z'),
    ])
    const ids = snaps.map((s) => s.id!)
    const found = await repo.findSnapshots(['latest', ids[0]!.slice(0, 10), 'latest~1', ids[3]!], { tags: [['k']] })
    expect(found.map((s) => s.id)).toEqual([ids[2], ids[0], ids[3]])
    expect((await repo.findSnapshots([ids[1]!, ids[2]!, ids[1]!])).map((s) => s.id)).toEqual([ids[1], ids[2]])
    await expect(repo.findSnapshots(['latest~5', 'latest'], { tags: [['k']] })).rejects.toThrow(/only 2 snapshots matching the filter/)
  })
})
