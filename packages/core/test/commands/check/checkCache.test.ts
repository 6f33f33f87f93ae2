import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ForwardingBackend, hashId, Repository, type CacheLayer, type FileType, type Id, type WriteBackend } from '@rustic-ts/core/internal'
import { copyBackend, PASSWORD, twoBackups, type TwoBackups } from '../twoBackups.js'

/** A cache kept in memory: enough of a CacheLayer for check (reads of the repository go through it, filling it). */
class MemoryCache extends ForwardingBackend implements CacheLayer {
  readonly copies = new Map<string, Uint8Array>()
  constructor(inner: WriteBackend) {
    super(inner)
  }
  override async readFull(type: FileType, id: Id): Promise<Uint8Array> {
    const k = `${type}/${id}`
    const hit = this.copies.get(k)
    if (hit) return hit
    const data = await this.inner.readFull(type, id)
    if (type === 'snapshot' || type === 'index') this.copies.set(k, Uint8Array.from(data))
    return data
  }
  cacheLocation(): string {
    return 'memory cache'
  }
  async listCached(type: FileType): Promise<Map<Id, number>> {
    const out = new Map<Id, number>()
    for (const [k, v] of this.copies) if (k.startsWith(`${type}/`)) out.set(k.slice(type.length + 1) as Id, v.length)
    return out
  }
  async readCached(type: FileType, id: Id): Promise<Uint8Array | undefined> {
    return this.copies.get(`${type}/${id}`)
  }
  async writeCached(type: FileType, id: Id, data: Uint8Array): Promise<void> {
    this.copies.set(`${type}/${id}`, Uint8Array.from(data))
  }
  async removeCached(type: FileType, id: Id): Promise<void> {
    this.copies.delete(`${type}/${id}`)
  }
}

let f: TwoBackups
beforeAll(async () => {
  f = await twoBackups()
})
afterAll(async () => f?.cleanup())

async function openCached(): Promise<{ repo: Repository; cache: MemoryCache; cold: WriteBackend }> {
  const cold = await copyBackend(f.cold)
  let cache: MemoryCache | undefined
  const repo = await Repository.open({ cache: (b) => (cache = new MemoryCache(b)) }, { repository: cold }, { password: PASSWORD })
  await repo.getSnapshots() // fills the cache
  return { repo, cache: cache!, cold }
}

describe('check compares the cache with the repository', () => {
  it('replaces a damaged copy, removes a stale one, and reads the repository even when the cache is good', async () => {
    const { repo, cache, cold } = await openCached()
    const damaged = Uint8Array.from((await cache.readCached('snapshot', f.snap1))!)
    damaged[5]! ^= 1
    await cache.writeCached('snapshot', f.snap1, damaged)
    const stale = 'cd'.repeat(32) as Id
    await cache.writeCached('index', stale, new Uint8Array(10))
    const r = await repo.check()
    expect(r.findings.map((x) => [x.level, x.kind, x.file?.id]).sort()).toEqual([
      ['info', 'cacheStale', stale],
      ['warning', 'cacheDamaged', f.snap1],
    ])
    expect(r.findings.find((x) => x.kind === 'cacheDamaged')!.message).toMatch(/does not match the repository: replaced it with the repository's copy$/)
    expect(hashId((await cache.readCached('snapshot', f.snap1))!)).toBe(f.snap1)
    expect(await cache.readCached('index', stale)).toBeUndefined()

    const bytes = Uint8Array.from(await cold.readFull('snapshot', f.snap2))
    bytes[5]! ^= 1
    await cold.writeBytes('snapshot', f.snap2, false, bytes)
    const again = await repo.check()
    expect(again.findings.map((x) => [x.kind, x.file?.id])).toEqual([['snapshotDamaged', f.snap2]])
    expect((await repo.check({ trustCache: true })).findings.map((x) => x.kind)).toEqual(['snapshotDamaged'])
  })
})
