import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseIndex, serializeIndex } from '@rustic-ts/core/internal'
import { openCopy, twoBackups, type TwoBackups } from '../twoBackups.js'

let f: TwoBackups

beforeAll(async () => {
  f = await twoBackups()
})
afterAll(async () => f?.cleanup())

describe('repair index', () => {
  it('leaves a sound index alone', async () => {
    const { repo, cold } = await openCopy(f)
    const before = await cold.list('index')
    const plan = await repo.planRepairIndex()
    expect(plan).toMatchObject({ obsoleteIndexFiles: [], added: [], reindexed: [], removed: [], packs: [] })
    expect(await repo.repairIndex(plan)).toEqual({ written: [], removed: [] })
    expect(await cold.list('index')).toEqual(before)
  })

  it('rebuilds a deleted index from the pack headers; the plan writes nothing; check is then clean', async () => {
    const { repo, cold } = await openCopy(f)
    for (const id of await cold.list('index')) await cold.remove('index', id, false)
    const plan = await repo.planRepairIndex()
    expect(plan.added.sort()).toEqual((await cold.list('pack')).sort())
    expect(await cold.list('index')).toEqual([])
    const result = await repo.repairIndex(plan)
    expect(result.written).toHaveLength(1)
    expect((await repo.check({ readData: true })).findings).toEqual([])
  })

  it('drops a missing pack and the second listing of a pack, rewriting only the index files concerned', async () => {
    const { repo, cold } = await openCopy(f)
    const [first, ...others] = await cold.list('index')
    // a second index file naming the first one's packs again
    const copy = await repo.dbe.readEncryptedFull('index', first!)
    const dup = await repo.dbe.saveFile('index', copy)
    await cold.remove('pack', f.lostPack, false)
    const plan = await repo.planRepairIndex()
    expect(plan.removed).toEqual([f.lostPack])
    expect(plan.added).toEqual([])
    const kept = new Set([first, dup, ...others].filter((id) => !plan.obsoleteIndexFiles.includes(id!)))
    const result = await repo.repairIndex(plan)
    expect(result.removed.sort()).toEqual([...plan.obsoleteIndexFiles].sort())
    expect((await cold.list('index')).sort()).toEqual([...kept, ...result.written].sort())
    const r = await repo.check()
    expect(r.findings.filter((x) => x.level !== 'info')).toEqual([
      expect.objectContaining({ kind: 'fileBlobMissing', snapshot: f.snap2, path: expect.stringMatching(/\/lost\/(big2\.bin|note\.txt)$/) }),
      ...Array(r.summary.errors - 1).fill(expect.objectContaining({ kind: 'fileBlobMissing' })),
    ])
  })

  it('reindexes a pack whose entries give the wrong size, and readAllPacks replaces every index file', async () => {
    const { repo, cold } = await openCopy(f)
    const ids = await cold.list('index')
    const file = parseIndex(await repo.dbe.readEncryptedFull('index', ids[0]!), 'index')
    const pack = file.packs.find((p) => p.blobs.length > 1)!
    pack.blobs.pop()
    await cold.remove('index', ids[0]!, false)
    await repo.dbe.saveFile('index', serializeIndex(file))
    const plan = await repo.planRepairIndex()
    expect(plan.reindexed.map((p) => p.id)).toEqual([pack.id])
    expect(plan.reindexed[0]!.indexedSize).toBeLessThan(plan.reindexed[0]!.size)
    await repo.repairIndex(plan)
    const all = await repo.planRepairIndex({ readAllPacks: true })
    expect(all.reindexed).toHaveLength((await cold.list('pack')).length)
    expect(all.obsoleteIndexFiles.sort()).toEqual((await cold.list('index')).sort())
    await repo.repairIndex(all)
    expect((await repo.check({ readData: true })).findings).toEqual([])
  })

  it('drops an index file that does not decrypt, and indexes its packs again', async () => {
    const { repo, cold } = await openCopy(f)
    const [bad] = await cold.list('index')
    const data = Uint8Array.from(await cold.readFull('index', bad!))
    data[50]! ^= 1
    await cold.writeBytes('index', bad!, false, data)
    const plan = await repo.planRepairIndex()
    expect(plan.invalidIndexFiles.map((x) => x.id)).toEqual([bad])
    expect(plan.added.length).toBeGreaterThan(0)
    await repo.repairIndex(plan)
    expect((await repo.check()).findings).toEqual([])
  })
})
