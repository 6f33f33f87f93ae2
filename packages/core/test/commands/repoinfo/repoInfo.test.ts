import { describe, expect, it } from 'vitest'
import { memoryRepo, snapshotOf } from '../memorySnapshots.js'

describe('repoInfo', () => {
  it('counts files, blobs and packs, and finds the blobs no snapshot uses', async () => {
    const repo = await memoryRepo()
    await snapshotOf(repo, { 'keep.txt': { data: 'k'.repeat(5000) } })
    const gone = await snapshotOf(repo, { 'gone.txt': { data: 'g'.repeat(7000) } }, { time: 1_700_000_200 })
    await repo.repo.deleteSnapshots([gone.id!])
    const info = await repo.repo.repoInfo()
    const files = Object.fromEntries(info.files!.repo.map((f) => [f.type, f.count]))
    expect(files).toMatchObject({ config: 1, key: 1, snapshot: 1, lock: 1 }) // its own shared lock
    expect(files['pack']).toBe(info.index!.packs.reduce((n, p) => n + p.count, 0))
    const packBytes = info.files!.repo.find((f) => f.type === 'pack')!.size
    expect(info.index!.packs.reduce((n, p) => n + p.size, 0)).toBe(packBytes)
    const data = info.index!.blobs.find((b) => b.type === 'data')!
    expect(data).toMatchObject({ count: 2, dataSize: 12_000 })
    expect(info.index!.compressionRatio).toBeGreaterThan(5)
    const unused = Object.fromEntries(info.unused!.map((b) => [b.type, b]))
    expect(unused['data']).toMatchObject({ count: 1, dataSize: 7000 })
    expect(unused['tree']!.count).toBeGreaterThanOrEqual(1)
    const only = await repo.repo.repoInfo({ files: false, unused: false })
    expect(only.files).toBeUndefined()
    expect(only.unused).toBeUndefined()
  })
})
