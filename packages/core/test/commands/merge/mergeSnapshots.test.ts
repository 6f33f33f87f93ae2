import { describe, expect, it } from 'vitest'
import { isRusticError, mergePaths } from '@rustic-ts/core/internal'
import { filesOf, memoryRepo, snapshotOf } from '../memorySnapshots.js'

describe('mergeSnapshots', () => {
  it('merges trees: every path of every snapshot, the last modified entry winning', async () => {
    const repo = await memoryRepo()
    const a = await snapshotOf(repo, { 'd/old.txt': { data: 'a-old', mtime: 100 }, 'd/both.txt': { data: 'a-newer', mtime: 300 }, 'only-a': { data: 'A' } }, { time: 1_700_000_100 })
    const b = await snapshotOf(repo, { 'd/both.txt': { data: 'b-older', mtime: 200 }, 'd/e/deep.txt': { data: 'deep' }, 'only-b': { data: 'B' } }, { time: 1_700_000_200 })
    const { snapshot, deleted } = await repo.mergeSnapshots([b, a], { tags: ['merged'] })
    expect(deleted).toEqual([])
    expect(await filesOf(repo, snapshot)).toEqual({
      '/d/both.txt': 'a-newer',
      '/d/e/deep.txt': 'deep',
      '/d/old.txt': 'a-old',
      '/only-a': 'A',
      '/only-b': 'B',
    })
    expect(snapshot.time).toBe(b.time)
    expect(snapshot.hostname).toBe('host-a')
    expect(snapshot.tags).toEqual(['merged'])
    expect(snapshot.paths).toEqual(['/root'])
    expect(snapshot.parents).toEqual([a.id, b.id])
    expect(snapshot.summary?.command).toBe('merge')
    expect((await repo.repo.getSnapshots()).map((s) => s.id)).toContain(snapshot.id)
  })

  it('on equal mtimes the later snapshot wins; merging one snapshot keeps its tree; delete removes the inputs', async () => {
    const repo = await memoryRepo()
    const a = await snapshotOf(repo, { 'f.txt': { data: 'first', mtime: 5 } }, { time: 1_700_000_100 })
    const b = await snapshotOf(repo, { 'f.txt': { data: 'second', mtime: 5 } }, { time: 1_700_000_200 })
    const merged = await repo.mergeSnapshots([a, b], { delete: true })
    expect(await filesOf(repo, merged.snapshot)).toEqual({ '/f.txt': 'second' })
    expect(merged.snapshot.tree).toBe(b.tree)
    expect(merged.deleted.sort()).toEqual([a.id, b.id].sort())
    expect(await repo.repo.snapshotIds()).toEqual([merged.snapshot.id])
    const alone = await repo.mergeSnapshots([merged.snapshot])
    expect(alone.snapshot.tree).toBe(merged.snapshot.tree)
  })

  it('refuses nothing to merge and bad options', async () => {
    const repo = await memoryRepo()
    expect(isRusticError(await repo.mergeSnapshots([]).catch((e: unknown) => e), 'InvalidArgument')).toBe(true)
    const a = await snapshotOf(repo, { f: { data: 'x' } })
    expect(isRusticError(await repo.mergeSnapshots([a], { tags: 'x' as never }).catch((e: unknown) => e), 'InvalidOptions')).toBe(true)
  })

  it('mergePaths keeps the outermost paths, component by component', () => {
    expect(mergePaths(['/a/b', '/a', '/a-c', '/a/b/c', '/x', 'rel/y', 'rel'])).toEqual(['/a', '/a-c', '/x', 'rel'])
  })
})
