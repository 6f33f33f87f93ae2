import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openCopy, twoBackups, type TwoBackups } from './twoBackups.js'

let f: TwoBackups

beforeAll(async () => {
  f = await twoBackups()
})
afterAll(async () => f?.cleanup())

describe('listFiles and listBlobs', () => {
  it('list every file of a kind with its size, and every indexed blob with its pack', async () => {
    const { repo, cold } = await openCopy(f)
    expect((await repo.listFiles('snapshots')).map((x) => x.id).sort()).toEqual([f.snap1, f.snap2].sort())
    expect(await repo.listFiles('packs')).toEqual((await cold.listWithSize('pack')).map(([id, size]) => ({ id, size })))
    expect(await repo.listFiles('locks')).toEqual([])
    const indexed = await repo.toIndexed()
    const blobs = []
    for await (const b of repo.listBlobs()) blobs.push(b)
    expect(blobs).toHaveLength(indexed.index.count('data') + indexed.index.count('tree'))
    for (const b of blobs) expect(indexed.index.get(b.type, b.id)?.packId).toBe(b.pack)
    await expect(repo.listFiles('trees' as never)).rejects.toMatchObject({ code: 'InvalidOptions' })
  })
})
