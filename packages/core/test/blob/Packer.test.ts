import { describe, expect, it } from 'vitest'
import {
  hashId,
  Indexer,
  isRusticError,
  MemoryBackend,
  Packer,
  PackSizer,
  readPackHeader,
  Repository,
  SealPool,
  type BlobType,
  type Id,
  type IndexBlob,
  type PackBlob,
} from '@rustic-ts/core/internal'
import { FaultInjectingBackend } from '@rustic-ts/backend-testkit'
import { indexedPacks, newRepo, password, packAll, randomBlobs, readIndexFiles } from './helpers.js'

function sortById<T extends { id: Id }>(a: T[]): T[] {
  return [...a].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
}

function headerOf(b: IndexBlob | PackBlob): PackBlob {
  const e: PackBlob = { type: b.type, id: b.id, offset: b.offset, length: b.length }
  if (b.uncompressedLength) e.uncompressedLength = b.uncompressedLength
  return e
}

describe.each([1, 2] as const)('Packer and Indexer, repository v%i (MemoryBackend)', (version) => {
  it('packs thousands of mixed blobs; every blob reads back; headers equal the index', async () => {
    const { backend, repo } = await newRepo(version)
    const blobs = randomBlobs(3000)
    const { packers, indexFiles } = await packAll(repo, blobs, {
      packer: { sizer: PackSizer.forType(repo.config, 'data', 0, { defaultSize: 256 * 1024 }) },
    })
    const total = packers.data.stats.blobs + packers.tree.stats.blobs
    expect(total).toBe(new Set(blobs.map((b) => `${b.type}:${b.id}`)).size)
    expect(packers.data.stats.dataAdded).toBe(blobs.filter((b) => b.type === 'data').reduce((s, b) => s + b.data.length, 0))
    expect(indexFiles).toEqual((await backend.list('index')).sort().filter((id) => indexFiles.includes(id)))
    expect(indexFiles.length).toBe((await backend.list('index')).length)

    const reopened = await Repository.open({}, { repository: backend }, { password })
    const indexed = await reopened.toIndexed()
    for (const b of blobs) {
      const got = await indexed.getBlob(b.type, b.id)
      expect(Buffer.compare(got, b.data)).toBe(0)
    }

    const sizes = new Map(await backend.listWithSize('pack'))
    const packs = await indexedPacks(reopened)
    expect(packs.length).toBe(sizes.size)
    expect(packs.length).toBe(packers.data.stats.packs + packers.tree.stats.packs)
    for (const p of packs) {
      expect(p.time).toMatch(/^\d{4}-\d\d-\d\dT/)
      const types = new Set(p.blobs.map((b) => b.type))
      expect(types.size).toBe(1) // data and tree blobs in separate packs
      const header = await readPackHeader(reopened.dbe, p.id, sizes.get(p.id)!)
      expect(header).toEqual(p.blobs.map(headerOf))
      const file = await backend.readFull('pack', p.id)
      expect(hashId(file)).toBe(p.id)
      for (const b of header) {
        // v2 compresses every blob (types 2/3), v1 none (types 0/1)
        if (version === 2) expect(b.uncompressedLength).toBeGreaterThan(0)
        else expect(b.uncompressedLength).toBeUndefined()
      }
    }
  })

  it('dedups: the same id twice (also concurrently), and ids already in the index', async () => {
    const { repo } = await newRepo(version)
    const blobs = randomBlobs(50)
    const indexed = await repo.toIndexed()
    const indexer = new Indexer(repo.dbe)
    const packer = new Packer(repo.dbe, 'data', indexer, indexed.index)
    const b = blobs[1]!
    const results = await Promise.all([packer.add(b.id, b.data), packer.add(b.id, b.data), packer.add(b.id, b.data)])
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(packer.has(b.id)).toBe(true)
    expect(await packer.add(b.id, b.data)).toBe(false)
    const stats = await packer.finalize()
    expect(stats.blobs).toBe(1)
    expect(packer.has(b.id)).toBe(false)
    expect(indexer.has('data', b.id)).toBe(true)
    expect(indexer.has('tree', b.id)).toBe(false)
    await indexer.finalize()

    // a new run: the blob is in the repository's index now
    const indexed2 = await repo.toIndexed()
    const indexer2 = new Indexer(repo.dbe)
    const packer2 = new Packer(repo.dbe, 'data', indexer2, indexed2.index)
    expect(await packer2.add(b.id, b.data)).toBe(false)
    const c = blobs[2]!
    expect(await packer2.add(c.id, c.data)).toBe(true)
    expect((await packer2.finalize()).blobs).toBe(1)
    expect(await indexer2.finalize()).toHaveLength(1)
    const packs = await indexedPacks(repo)
    expect(packs.flatMap((p) => p.blobs.map((x) => x.id)).sort()).toEqual([b.id, c.id].sort())
  })

  it('keepIds false: the indexer keeps no ids, the packer finds stored blobs in the index onPack fills', async () => {
    const { repo } = await newRepo(version)
    const [a, b] = randomBlobs(2)
    const indexed = await repo.toIndexed()
    const indexer = new Indexer(repo.dbe, { keepIds: false, onPack: (pack) => indexed.index.addIndexFile({ packs: [pack] }) })
    const packer = new Packer(repo.dbe, 'data', indexer, indexed.index, { maxBlobsPerPack: 1 })
    expect(await packer.add(a!.id, a!.data)).toBe(true)
    await packer.flush()
    expect(indexer.has('data', a!.id)).toBe(false)
    expect(indexed.index.has('data', a!.id)).toBe(true)
    expect(await packer.add(a!.id, a!.data)).toBe(false)
    expect(await packer.add(b!.id, b!.data)).toBe(true)
    expect((await packer.finalize()).blobs).toBe(2)
    expect(await indexer.finalize()).toHaveLength(1)
    expect((await indexedPacks(repo)).flatMap((p) => p.blobs.map((x) => x.id)).sort()).toEqual([a!.id, b!.id].sort())
  })

  it('addSealed copies blobs between repositories', async () => {
    const { repo: src } = await newRepo(version)
    const blobs = randomBlobs(200)
    await packAll(src, blobs)
    const srcIndexed = await src.toIndexed()
    // same master key for a raw copy
    const dstRepo = await Repository.init({}, { repository: new MemoryBackend() }, { key: src.key }, { version })
    const indexer = new Indexer(dstRepo.dbe)
    const packers = {
      data: new Packer(dstRepo.dbe, 'data', indexer, (await dstRepo.toIndexed()).index),
      tree: new Packer(dstRepo.dbe, 'tree', indexer, (await dstRepo.toIndexed()).index),
    }
    for (const b of blobs) {
      const loc = srcIndexed.locate(b.type, b.id)
      const sealed = await src.backend.readPartial('pack', loc.packId, false, loc.offset, loc.length)
      await packers[b.type].addSealed(b.id, sealed, loc.uncompressedLength)
    }
    await packers.data.finalize()
    await packers.tree.finalize()
    await indexer.finalize()
    const dstIndexed = await dstRepo.toIndexed()
    for (const b of blobs) expect(Buffer.compare(await dstIndexed.getBlob(b.type, b.id), b.data)).toBe(0)
  })

  it('an empty blob is stored uncompressed and reads back', async () => {
    const { repo } = await newRepo(version)
    const indexer = new Indexer(repo.dbe)
    const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index)
    const empty = new Uint8Array(0)
    expect(await packer.add(hashId(empty), empty)).toBe(true)
    await packer.finalize()
    await indexer.finalize()
    const indexed = await repo.toIndexed()
    expect(indexed.index.get('data', hashId(empty))!.uncompressedLength).toBeUndefined()
    expect((await indexed.getBlob('data', hashId(empty))).length).toBe(0)
  })
})

describe('pack sizes', () => {
  it('PackSizer: rustic defaults, growth with √(repo size), limits, config fields', () => {
    const config = { version: 2 as const }
    expect(PackSizer.forType(config, 'tree', 0).targetSize()).toBe(4 * 1024 * 1024)
    expect(PackSizer.forType(config, 'data', 0).targetSize()).toBe(32 * 1024 * 1024)
    // 32 · √(1 GiB) = 1 MiB
    expect(PackSizer.forType(config, 'data', 1024 ** 3).targetSize()).toBe(33 * 1024 * 1024)
    expect(PackSizer.forType(config, 'tree', 100 * 1024 ** 3).targetSize()).toBe(14 * 1024 * 1024)
    expect(PackSizer.forType(config, 'data', 1000).targetSize()).toBe(32 * 1024 * 1024 + 31 * 32)
    expect(PackSizer.forType(config, 'data', 2 ** 60).targetSize()).toBe(4076 * 1024 * 1024) // MAX_SIZE
    expect(PackSizer.forType({ version: 2, datapackSize: 1000, datapackGrowfactor: 2, datapackSizeLimit: 1100 }, 'data', 10_000).targetSize()).toBe(1100)
    expect(PackSizer.forType({ version: 2, datapackSize: 1000, datapackGrowfactor: 2 }, 'data', 10_000).targetSize()).toBe(1200)
    expect(PackSizer.forType({ version: 1, treepackSize: 1000 }, 'data', 0).targetSize()).toBe(32 * 1024 * 1024)
    expect(PackSizer.forType(config, 'data', 0, { defaultSize: 500, growFactor: 0 }).targetSize()).toBe(500)
    const s = PackSizer.forType(config, 'data', 0, { defaultSize: 1000 })
    s.addSize(10_000)
    expect(s.targetSize()).toBe(1000 + 100 * 32)
    expect(PackSizer.fixed(777).targetSize()).toBe(777)
    expect(s.isTooSmall(100)).toBe(true)
    expect(s.sizeOk(4200)).toBe(true)
  })

  it('a pack is saved once its blobs reach the target, which grows with the saved packs', async () => {
    const { backend, repo } = await newRepo(2)
    const blobs = randomBlobs(1500, 64 * 1024).filter((b) => b.type === 'data')
    const indexer = new Indexer(repo.dbe)
    const opts = { defaultSize: 64 * 1024, growFactor: 8 }
    const initial = 5_000_000
    const order: Id[] = []
    const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index, {
      sizer: PackSizer.forType(repo.config, 'data', initial, opts),
      maxPacksInFlight: 1,
      onPackSaved: (id) => order.push(id),
    })
    for (const b of blobs) await packer.add(b.id, b.data)
    const stats = await packer.finalize()
    await indexer.finalize()
    expect(order.length).toBe(stats.packs)
    const sizes = new Map(await backend.listWithSize('pack'))
    const ref = PackSizer.forType(repo.config, 'data', initial, opts)
    expect(ref.targetSize()).toBe(64 * 1024 + 8 * 2236)
    let n = 0
    for (const [i, id] of order.entries()) {
      const header = await readPackHeader(repo.dbe, id, sizes.get(id)!)
      const blobBytes = header.reduce((s, b) => s + b.length, 0)
      const target = ref.targetSize()
      if (i < order.length - 1) {
        expect(blobBytes).toBeGreaterThanOrEqual(target)
        expect(blobBytes - header.at(-1)!.length).toBeLessThan(target) // closed by the blob that reached the target
      } else {
        expect(blobBytes).toBeLessThan(target + header.at(-1)!.length)
      }
      ref.addSize(sizes.get(id)!)
      n += header.length
    }
    expect(n).toBe(blobs.length)
    expect(ref.targetSize()).toBeGreaterThan(PackSizer.forType(repo.config, 'data', initial, opts).targetSize())
  })

  it('the default sizer takes the repository total from the index', async () => {
    const { repo } = await newRepo(2)
    await packAll(repo, randomBlobs(300))
    const indexed = await repo.toIndexed()
    const { totalPackSize } = await import('@rustic-ts/core/internal')
    const sizes = new Map(await repo.backend.listWithSize('pack'))
    for (const type of ['data', 'tree'] as BlobType[]) {
      const packs = (await indexedPacks(repo)).filter((p) => p.blobs[0]!.type === type)
      expect(totalPackSize(indexed.index, type)).toBe(packs.reduce((s, p) => s + sizes.get(p.id)!, 0))
    }
  })

  it('the default sizer reads rustic pack size settings from the config option', async () => {
    const { repo } = await newRepo(2)
    const blobs = randomBlobs(300, 4096).filter((b) => b.type === 'data')
    const { packers } = await packAll(repo, blobs, {
      packer: { config: { ...repo.config, datapackSize: 100_000, datapackGrowfactor: 0, treepackSize: 1 } },
    })
    const bytes = packers.data.stats.dataAddedPacked
    expect(packers.data.stats.packs).toBeGreaterThanOrEqual(Math.floor(bytes / 110_000))
    expect(packers.data.stats.packs).toBeLessThanOrEqual(Math.ceil(bytes / 100_000))
    expect(packers.tree.stats.packs).toBe(0)
  })

  it('closes a pack older than maxPackAgeMs when a blob is added', async () => {
    const { repo } = await newRepo(2)
    const blobs = randomBlobs(7).map((b) => ({ ...b, type: 'data' as const }))
    const { packers } = await packAll(repo, blobs, { packer: { maxPackAgeMs: 0 }, concurrency: 1 })
    expect(packers.data.stats.packs).toBe(7)
  })

  it('closes a pack at maxBlobsPerPack', async () => {
    const { repo } = await newRepo(1)
    const blobs = randomBlobs(95).map((b) => ({ ...b, type: 'tree' as const }))
    const { packers } = await packAll(repo, blobs, { packer: { maxBlobsPerPack: 10 }, concurrency: 1 })
    expect(packers.tree.stats.packs).toBe(10)
    const packs = await indexedPacks(repo)
    expect(packs.map((p) => p.blobs.length).sort((a, b) => a - b)).toEqual([5, 10, 10, 10, 10, 10, 10, 10, 10, 10])
  })
})

describe('index files', () => {
  it('are split at maxBlobsPerFile; each pack is in exactly one file', async () => {
    const { repo } = await newRepo(2)
    const blobs = randomBlobs(1000, 16 * 1024)
    const { indexFiles, packers } = await packAll(repo, blobs, {
      packer: { sizer: PackSizer.fixed(16 * 1024) },
      indexer: { maxBlobsPerFile: 100 },
    })
    const files = await readIndexFiles(repo)
    expect([...files.keys()].sort()).toEqual([...indexFiles].sort())
    expect(files.size).toBeGreaterThanOrEqual(5)
    const counts = [...files.values()].map((f) => f.packs.reduce((s, p) => s + p.blobs.length, 0))
    const maxPerPack = Math.max(...[...files.values()].flatMap((f) => f.packs.map((p) => p.blobs.length)))
    // all files but the final one reached the limit, and none exceeds it by more than one pack
    expect(counts.filter((c) => c < 100).length).toBeLessThanOrEqual(1)
    for (const c of counts) expect(c).toBeLessThan(100 + maxPerPack)
    expect(counts.reduce((a, b) => a + b, 0)).toBe(packers.data.stats.blobs + packers.tree.stats.blobs)
    const packIds = [...files.values()].flatMap((f) => f.packs.map((p) => p.id))
    expect(new Set(packIds).size).toBe(packIds.length)
  })

  it('packs marked for deletion go to packs_to_delete and do not count as present', async () => {
    const { repo } = await newRepo(2)
    const indexer = new Indexer(repo.dbe)
    const blob = { id: hashId(new Uint8Array([1])), type: 'data' as const, offset: 0, length: 33 }
    const pack = { id: hashId(new Uint8Array([2])), blobs: [blob], time: '2026-01-02T03:04:05Z' }
    await indexer.addToDelete(pack)
    expect(indexer.has('data', blob.id)).toBe(false)
    expect(indexer.pendingBlobs).toBe(1)
    const [id] = await indexer.finalize()
    const files = await readIndexFiles(repo)
    expect(files.get(id!)).toEqual({ packs: [], packsToDelete: [pack] })
    expect((await repo.toIndexed()).index.packsToDelete().has(pack.id)).toBe(true)
  })

  it('an index file is saved after maxAgeMs', async () => {
    const { repo } = await newRepo(2)
    const indexer = new Indexer(repo.dbe, { maxAgeMs: 0 })
    const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index, { sizer: PackSizer.fixed(1) })
    for (const b of randomBlobs(5).map((x) => ({ ...x, type: 'data' as const }))) await packer.add(b.id, b.data)
    await packer.finalize()
    expect(indexer.indexFilesWritten.length).toBe(5)
    expect(await indexer.finalize()).toHaveLength(5)
  })
})

describe('failures', () => {
  it('a failed pack upload surfaces from add/finalize; no index names a missing pack', async () => {
    const mem = new MemoryBackend()
    const faulty = new FaultInjectingBackend(mem, { faultRate: 0, methods: ['writeBytes'], kind: 'Other', transient: false })
    const { repo } = await newRepo(2, faulty)
    const blobs = randomBlobs(2000, 32 * 1024)
    const indexer = new Indexer(repo.dbe, { maxBlobsPerFile: 200 })
    const index = (await repo.toIndexed()).index
    const packers = {
      data: new Packer(repo.dbe, 'data', indexer, index, { sizer: PackSizer.fixed(32 * 1024) }),
      tree: new Packer(repo.dbe, 'tree', indexer, index, { sizer: PackSizer.fixed(32 * 1024) }),
    }
    let saved = 0
    let addError: unknown
    for (const b of blobs) {
      if (saved++ === 600) faulty.faultRate = 0.3
      try {
        await packers[b.type].add(b.id, b.data)
      } catch (e) {
        addError = e
        break
      }
    }
    expect(faulty.faults.writeBytes).toBeGreaterThan(0)
    expect((addError as Error)?.message).toMatch(/injected fault in writeBytes/)
    const results = await Promise.allSettled([packers.data.finalize(), packers.tree.finalize()])
    expect(results.some((r) => r.status === 'rejected')).toBe(true)
    faulty.faultRate = 0
    await indexer.finalize()
    const stored = new Set(await mem.list('pack'))
    const packs = await indexedPacks(repo)
    expect(packs.length).toBeGreaterThan(0)
    for (const p of packs) expect(stored.has(p.id)).toBe(true)
    // what is indexed is readable
    const indexed = await repo.toIndexed()
    for (const b of blobs) if (indexed.index.has(b.type, b.id)) expect(Buffer.compare(await indexed.getBlob(b.type, b.id), b.data)).toBe(0)
  })

  it('a failed index write keeps its packs for finalize', async () => {
    const mem = new MemoryBackend()
    const faulty = new FaultInjectingBackend(mem, { faultRate: 0, methods: ['writeBytes'], kind: 'Other', transient: false })
    const { repo } = await newRepo(2, faulty)
    const indexer = new Indexer(repo.dbe, { maxBlobsPerFile: 1 })
    const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index, { sizer: PackSizer.fixed(1), maxPacksInFlight: 1 })
    const [a] = randomBlobs(1)
    // the pack is stored, the index write fails
    const orig = faulty.writeBytes.bind(faulty)
    faulty.writeBytes = (type, id, c, data, o) => (type === 'index' ? Promise.reject(new Error('index write failed')) : orig(type, id, c, data, o))
    await packer.add(a!.id, a!.data)
    await expect(packer.finalize()).rejects.toThrow(/index write failed/)
    expect(indexer.has('data', a!.id)).toBe(true)
    await expect(indexer.finalize()).rejects.toThrow(/index write failed/)
    faulty.writeBytes = orig
    expect(await indexer.finalize()).toHaveLength(1)
    const indexed = await repo.toIndexed()
    expect(Buffer.compare(await indexed.getBlob('data', a!.id), a!.data)).toBe(0)
  })

  it('after an abort no pack is added and only stored packs get indexed', async () => {
    const mem = new MemoryBackend()
    const slow = new FaultInjectingBackend(mem, { faultRate: 0, latencyMs: [1, 20] })
    const { repo } = await newRepo(2, slow)
    const ac = new AbortController()
    const indexer = new Indexer(repo.dbe)
    const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index, {
      sizer: PackSizer.fixed(16 * 1024),
      signal: ac.signal,
      maxPacksInFlight: 3,
    })
    const blobs = randomBlobs(1000, 16 * 1024).map((b) => ({ ...b, type: 'data' as const }))
    let i = 0
    let err: unknown
    try {
      for (const b of blobs) {
        if (i++ === 300) ac.abort()
        await packer.add(b.id, b.data)
      }
    } catch (e) {
      err = e
    }
    expect(isRusticError(err, 'Aborted')).toBe(true)
    await expect(packer.finalize()).rejects.toSatisfy((e: unknown) => isRusticError(e, 'Aborted'))
    await indexer.finalize()
    const stored = new Set(await mem.list('pack'))
    const packs = await indexedPacks(repo)
    expect(packs.length).toBeGreaterThan(0)
    for (const p of packs) expect(stored.has(p.id)).toBe(true)
    const indexed = await repo.toIndexed()
    expect(indexed.index.count('data')).toBeLessThanOrEqual(301)
  })

  it('extraVerify opens every sealed blob again', async () => {
    const { repo } = await newRepo(2)
    const indexer = new Indexer(repo.dbe)
    const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index, { extraVerify: true })
    for (const b of randomBlobs(20)) await packer.add(b.id, b.data)
    expect((await packer.finalize()).blobs).toBe(20)
  })
})

describe('readPackHeader', () => {
  it('reads headers longer than the first tail read, and rejects a wrong pack size', async () => {
    const { backend, repo } = await newRepo(2)
    const indexer = new Indexer(repo.dbe)
    const packer = new Packer(repo.dbe, 'tree', indexer, (await repo.toIndexed()).index)
    const blobs = Array.from({ length: 500 }, (_, i) => new TextEncoder().encode(`tree ${i}`))
    for (const d of blobs) await packer.add(hashId(d), d)
    await packer.finalize()
    await indexer.finalize()
    const [[id, size]] = (await backend.listWithSize('pack')) as [[Id, number]]
    const header = await readPackHeader(repo.dbe, id, size)
    expect(header.map((b) => b.id)).toEqual(blobs.map((d) => hashId(d)))
    expect(header.every((b) => b.type === 'tree' && b.uncompressedLength! > 0)).toBe(true)
    await expect(readPackHeader(repo.dbe, id, size + 1)).rejects.toThrow(/pack /)
    expect(sortById(header)).toEqual(sortById((await indexedPacks(repo))[0]!.blobs.map(headerOf)))
  })
})

describe('SealPool', () => {
  it.each([1, 2] as const)('packs like the calling thread does (v%i): dedup, stats, every blob reads back', async (version) => {
    const { repo } = await newRepo(version)
    const pool = (await SealPool.start(repo.dbe, { workers: 2 }))!
    expect(pool).toBeDefined()
    try {
      const blobs = randomBlobs(800, 64 * 1024)
      const dup = blobs.slice(0, 50)
      const { packers } = await packAll(repo, [...blobs, ...dup, { type: 'data', id: hashId(new Uint8Array(0)), data: new Uint8Array(0) }], {
        packer: { sealPool: pool, sizer: PackSizer.fixed(128 * 1024), extraVerify: true },
      })
      expect(packers.data.stats.blobs + packers.tree.stats.blobs).toBe(blobs.length + 1)
      expect(pool.pending).toBe(0)
      const indexed = await repo.toIndexed()
      for (const b of blobs) {
        expect(Buffer.compare(await indexed.getBlob(b.type, b.id), b.data)).toBe(0)
        expect(indexed.index.get(b.type, b.id)!.uncompressedLength).toBe(version === 2 ? b.data.length : undefined)
      }
    } finally {
      await pool.close()
    }
  })

  it('refuses a pool of another key or compression', async () => {
    const { repo } = await newRepo(2)
    const { repo: other } = await newRepo(2)
    const pool = (await SealPool.start(other.dbe, { workers: 1 }))!
    const v1 = (await newRepo(1)).repo
    const pool1 = (await SealPool.start(v1.dbe, { workers: 1 }))!
    try {
      const index = (await repo.toIndexed()).index
      expect(() => new Packer(repo.dbe, 'data', new Indexer(repo.dbe), index, { sealPool: pool })).toThrow(/another repository key/)
      expect(() => new Packer(v1.dbe, 'data', new Indexer(v1.dbe), index, { sealPool: pool1 })).not.toThrow()
      expect(() => new Packer(v1.dbe, 'data', new Indexer(v1.dbe), index, { sealPool: pool })).toThrow(/another repository key/)
    } finally {
      await pool.close()
      await pool1.close()
    }
  })

  it('many concurrent adds at the sealing limit wait and are served in the order they came; packs keep that order', async () => {
    const { repo } = await newRepo(2)
    const pool = (await SealPool.start(repo.dbe, { workers: 1 }))!
    try {
      // seals that end when the test says so, in the order it chooses
      const seals: Array<() => void> = []
      pool.seal = (plain) => {
        const sealed = repo.dbe.sealBlob(plain)
        return new Promise((resolve) => seals.push(() => resolve(sealed)))
      }
      const indexer = new Indexer(repo.dbe)
      const packer = new Packer(repo.dbe, 'tree', indexer, (await repo.toIndexed()).index, { sealPool: pool, maxSealsInFlight: 3, sizer: PackSizer.fixed(1 << 30) })
      const blobs = randomBlobs(200).map((b) => ({ ...b, type: 'tree' as const }))
      const served: number[] = []
      const adds = blobs.map((b, i) => packer.add(b.id, b.data).then(() => served.push(i)))
      const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
      await settle()
      expect(seals).toHaveLength(200) // every blob went to the pool at once
      expect(served).toEqual([0, 1]) // the third reached the limit of 3 being sealed
      // the others wait while 3 or more are being sealed: until all but 2 seals ended
      for (let i = 0; i < 197; i++) seals[i]!()
      await settle()
      expect(served).toEqual([0, 1])
      seals[197]!()
      await settle()
      expect(served).toEqual(blobs.map((_, i) => i))
      // new adds while 2 are being sealed: each reaches the limit, and they wait until fewer than 3 are left
      const more = randomBlobs(3).map((b) => ({ ...b, type: 'tree' as const }))
      const later = more.map((b, i) => packer.add(b.id, b.data).then(() => served.push(200 + i)))
      await settle()
      expect(served).toHaveLength(200)
      seals[198]!()
      seals[199]!()
      await settle()
      expect(served).toHaveLength(200) // 3 being sealed
      seals[200]!()
      await settle()
      expect(served).toEqual([...blobs.map((_, i) => i), 200, 201, 202])
      for (const f of seals.slice(201)) f()
      await Promise.all([...adds, ...later])
      await packer.finalize()
      await indexer.finalize()
      const packs = await indexedPacks(repo)
      expect(packs).toHaveLength(1)
      expect(packs[0]!.blobs.map((b) => b.id)).toEqual([...blobs, ...more].map((b) => b.id))
    } finally {
      await pool.close()
    }
  })

  it('a closed pool makes add/finalize fail', async () => {
    const { repo } = await newRepo(2)
    const pool = (await SealPool.start(repo.dbe, { workers: 1 }))!
    await pool.close()
    const indexer = new Indexer(repo.dbe)
    const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index, { sealPool: pool })
    const [b] = randomBlobs(1)
    await packer.add(b!.id, b!.data).catch(() => {})
    await expect(packer.finalize()).rejects.toThrow(/seal pool is closed/)
  })
})
