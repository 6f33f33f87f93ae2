import { describe, expect, it } from 'vitest'
import { isRusticError } from '@rustic-ts/core/internal'
import { memoryRepo, saveAll, snap, treeId } from '../snapshots/helpers.js'

describe('repo.modifySnapshots', () => {
  it('writes a new snapshot with original set and the same tree, then removes the old file', async () => {
    const { repo } = await memoryRepo()
    const [a, b] = await saveAll(repo, [
      snap('2024-01-01T00:00:00Z', { tags: ['x'], tree: treeId('one') }),
      snap('2024-01-02T00:00:00Z', { tags: ['y'] }),
    ])
    const result = await repo.modifySnapshots([a!, b!], { addTags: ['x'] })
    expect(result.unchanged).toEqual([a!.id])
    expect(result.modified).toHaveLength(1)
    const m = result.modified[0]!
    expect(m.from).toBe(b!.id)
    const ids = await repo.snapshotIds()
    expect(ids.sort()).toEqual([a!.id, m.snapshot.id].sort())
    const stored = await repo.getSnapshot(m.snapshot.id!)
    expect(stored.tags).toEqual(['y', 'x'])
    expect(stored.original).toBe(b!.id)
    expect(stored.tree).toBe(b!.tree)
    // a second change keeps the first id as original
    const again = await repo.modifySnapshots([stored], { setLabel: 'L' })
    expect((await repo.getSnapshot(again.modified[0]!.snapshot.id!)).original).toBe(b!.id)
  })

  it('writes nothing when nothing changes, and refuses an empty modification', async () => {
    const { backend, repo } = await memoryRepo()
    const snaps = await saveAll(repo, [snap('2024-01-01T00:00:00Z', { tags: ['x'] })])
    const before = await backend.list('snapshot')
    const r = await repo.modifySnapshots(snaps, { addTags: ['x'], removeTags: ['nope'] })
    expect(r.modified).toEqual([])
    expect(await backend.list('snapshot')).toEqual(before)
    const err = await repo.modifySnapshots(snaps, {}).catch((e: unknown) => e)
    expect(isRusticError(err, 'InvalidOptions')).toBe(true)
    const bad = await repo.modifySnapshots(snaps, { addTags: 'x' } as never).catch((e: unknown) => e)
    expect((bad as Error).message).toMatch(/^invalid snapshot modification: addTags: /)
  })

  it('an append-only repository refuses a change with AppendOnly and keeps every file', async () => {
    const { backend, repo } = await memoryRepo(true)
    const snaps = await saveAll(repo, [snap('2024-01-01T00:00:00Z')])
    const before = await backend.list('snapshot')
    const err = await repo.modifySnapshots(snaps, { addTags: ['x'] }).catch((e: unknown) => e)
    expect(isRusticError(err, 'AppendOnly')).toBe(true)
    expect((err as Error).message).toMatch(/append-only/)
    expect(await backend.list('snapshot')).toEqual(before)
  })
})
