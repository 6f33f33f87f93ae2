import { describe, expect, it } from 'vitest'
import { isRusticError } from '@rustic-ts/core/internal'
import { memoryRepo, snapshotOf } from '../memorySnapshots.js'

describe('stats', () => {
  it("counts in restic's four modes", async () => {
    const repo = await memoryRepo()
    await snapshotOf(repo, { 'd/a.txt': { data: 'aaaa' }, 'd/b.txt': { data: 'aaaa' }, 'c.txt': { data: 'cc' } })
    await snapshotOf(repo, { 'd/a.txt': { data: 'aaaa' }, 'e.txt': { data: 'eeeee' } }, { time: 1_700_000_200 })
    // restore-size: every node (the root dir, d, files) of each snapshot
    expect(await repo.stats()).toMatchObject({ snapshotsCount: 2, totalFileCount: 5 + 4, totalSize: 10 + 9, totalBlobCount: 0 })
    // files-by-contents: contents aaaa, cc, eeeee and the empty content of the directories
    expect(await repo.stats({ mode: 'files-by-contents' })).toMatchObject({ totalFileCount: 4, totalSize: 11 })
    // blobs-per-file: the first path of each distinct content
    expect(await repo.stats({ mode: 'blobs-per-file' })).toMatchObject({ totalFileCount: 3, totalBlobCount: 3, totalSize: 11 })
    const raw = await repo.stats({ mode: 'raw-data' })
    expect(raw.blobs!.data.count).toBe(3)
    expect(raw.blobs!.tree.count).toBe(repo.index.count('tree'))
    expect(raw.totalBlobCount).toBe(raw.blobs!.data.count + raw.blobs!.tree.count)
    expect(raw.totalFileCount).toBe(0)
    const latest = await repo.stats({ mode: 'raw-data', snapshots: ['latest'] })
    expect(latest.snapshotsCount).toBe(1)
    expect(latest.blobs!.data.count).toBe(2)
    // snapshots named as for findSnapshots (latest~N, repeats once), or selected by the filter's time bounds
    expect(await repo.stats({ snapshots: ['latest~1', 'latest~1'] })).toMatchObject({ snapshotsCount: 1, totalFileCount: 5 })
    expect(await repo.stats({ filter: { after: new Date(1_700_000_150_000) } })).toMatchObject({ snapshotsCount: 1, totalFileCount: 4 })
  })

  it('refuses an unknown mode', async () => {
    const repo = await memoryRepo()
    const err = await repo.stats({ mode: 'everything' as never }).catch((e: unknown) => e)
    expect(isRusticError(err, 'InvalidOptions')).toBe(true)
    expect((err as Error).message).toContain('mode')
  })
})
