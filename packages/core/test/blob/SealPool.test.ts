import { randomBytes } from 'node:crypto'
import { symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  Chunker,
  decompress,
  hashId,
  Indexer,
  Packer,
  randomPolynomial,
  SealPool,
  type BlobSink,
  type ChunkerOptions,
  type Id,
} from '@rustic-ts/core/internal'
import { newRepo, tempDir } from './helpers.js'

/** A sink that claims every new id once and keeps what it is given. */
class CollectingSink implements BlobSink {
  readonly claimed = new Set<Id>()
  readonly stored = new Map<Id, { sealed: Uint8Array; ul: number | undefined; size: number }>()
  claim(id: Id): boolean {
    if (this.claimed.has(id)) return false
    this.claimed.add(id)
    return true
  }
  addClaimed(id: Id, sealed: Uint8Array, ul: number | undefined, size: number, done: () => void): void {
    this.stored.set(id, { sealed: Uint8Array.prototype.slice.call(sealed), ul, size })
    done()
  }
}

/** Data with long repeats, so that a chunker with small settings cuts at the mask, at maxSize and anywhere between. */
function testData(size: number): Uint8Array {
  const out = new Uint8Array(size)
  const block = randomBytes(9000)
  for (let pos = 0; pos < size; ) {
    const piece = Math.random() < 0.3 ? new Uint8Array(5000) : Math.random() < 0.5 ? block : randomBytes(3000)
    out.set(piece.subarray(0, Math.min(piece.length, size - pos)), pos)
    pos += piece.length
  }
  return out
}

describe('SealPool.storeFile: workers read, cut, hash and seal whole files', () => {
  let dir: string
  let cleanup: () => Promise<void>
  beforeAll(async () => ({ dir, cleanup } = await tempDir()))
  afterAll(async () => cleanup())

  const cases: Array<[string, ChunkerOptions, number[]]> = [
    ['small chunker settings', { minSize: 1024, maxSize: 8192, averageBits: 11 }, [0, 1, 63, 64, 1023, 1024, 1025, 8192, 50_000, 300_000, 9_000_000]],
    ['minSize = maxSize', { minSize: 4096, maxSize: 4096, averageBits: 8 }, [4095, 4096, 4097, 40_000]],
    ['restic settings (reads in 1 MiB blocks, chunks across them)', {}, [100, 600_000, 21 * 1024 * 1024 + 17]],
    ['the JavaScript engine of the cut search', { minSize: 1024, maxSize: 8192, averageBits: 11, engine: 'js' }, [0, 1025, 70_000]],
  ]
  it.each(cases)('cuts and stores like the calling thread would: %s', async (_name, options, sizes) => {
    const { repo } = await newRepo(2)
    const chunker = new Chunker(randomPolynomial(), options)
    const pool = (await SealPool.start(repo.dbe, { workers: 2, chunker }))!
    expect(pool.canStoreFiles).toBe(true)
    const sink = new CollectingSink()
    try {
      const files = await Promise.all(
        sizes.map(async (size, i) => {
          const data = testData(size)
          const path = join(dir, `f${i}-${size}`)
          await writeFile(path, data)
          return { path, data }
        }),
      )
      // every third file is announced smaller than it is (it grew since it was listed)
      const results = await Promise.all(files.map((f, i) => pool.storeFile(f.path, i % 3 === 2 ? f.data.length >> 4 : f.data.length, sink)))
      await pool.drain()
      results.forEach((r, i) => {
        const data = files[i]!.data
        const expected = chunker.split(data).map((c) => hashId(c))
        expect(r.size).toBe(data.length)
        expect(r.content).toEqual(expected)
      })
      // every new chunk was stored once, sealed with the key, compressed (v2)
      const all = new Map(files.flatMap((f) => chunker.split(f.data).map((c) => [hashId(c), c] as const)))
      expect(new Set(sink.stored.keys())).toEqual(new Set(all.keys()))
      for (const [id, s] of sink.stored) {
        const plain = decompress(repo.dbe.key.decrypt(s.sealed, 'test'), 'test', s.ul!)
        expect(hashId(plain)).toBe(id)
        expect(s.size).toBe(all.get(id)!.length)
      }
      // a second time: every chunk is known, nothing is sealed again
      const before = sink.stored.size
      const again = await pool.storeFile(files.at(-1)!.path, 0, sink)
      await pool.drain()
      expect(again.content).toEqual(results.at(-1)!.content)
      expect(sink.stored.size).toBe(before)
    } finally {
      await pool.close()
    }
  })

  it('cuts chunks of maxSize (longer than the read buffer) like the calling thread', async () => {
    const { repo } = await newRepo(2)
    const chunker = new Chunker(randomPolynomial())
    const pool = (await SealPool.start(repo.dbe, { workers: 1, chunker }))!
    try {
      // a run of one byte value: its fingerprint is constant and (almost surely) never matches the mask
      const data = new Uint8Array(20 * 1024 * 1024 + 5).fill(1)
      data.set(randomBytes(3 * 1024 * 1024), 17 * 1024 * 1024)
      const path = join(dir, 'runs')
      await writeFile(path, data)
      const sink = new CollectingSink()
      const r = await pool.storeFile(path, data.length, sink)
      await pool.drain()
      const chunks = chunker.split(data)
      expect(chunks.some((c) => c.length === chunker.options.maxSize)).toBe(true)
      expect(r.content).toEqual(chunks.map((c) => hashId(c)))
      for (const c of chunks) expect(sink.stored.get(hashId(c))?.size).toBe(c.length)
    } finally {
      await pool.close()
    }
  })

  it('stores many small files and large chunks through a sink that gives the slots back late', async () => {
    const { repo } = await newRepo(2)
    const chunker = new Chunker(randomPolynomial())
    const pool = (await SealPool.start(repo.dbe, { workers: 2, chunker }))!
    // the sink hands each batch's slot back only a few milliseconds later, so that sealed chunks wait for
    // slots, answered chunks wait for sealing, and small files wait for slabs (at most a few per worker)
    class SlowSink extends CollectingSink {
      override addClaimed(id: Id, sealed: Uint8Array, ul: number | undefined, size: number, done: () => void): void {
        super.addClaimed(id, sealed, ul, size, () => setTimeout(done, 3))
      }
    }
    const sink = new SlowSink()
    try {
      // 40 files of 200-900 KiB (read into slabs), and one whose run of one byte value makes 8 MiB chunks
      const files = await Promise.all(
        Array.from({ length: 41 }, async (_, i) => {
          const data = i < 40 ? randomBytes(200_000 + ((i * 17_000) % 700_000)) : new Uint8Array(17 * 1024 * 1024).fill(7)
          const path = join(dir, `slow-${i}`)
          await writeFile(path, data)
          return { path, data }
        }),
      )
      const results = await Promise.all(files.map((f) => pool.storeFile(f.path, f.data.length, sink)))
      await pool.drain()
      results.forEach((r, i) => expect(r.content).toEqual(chunker.split(files[i]!.data).map((c) => hashId(c))))
      for (const [id, s] of sink.stored) expect(hashId(decompress(repo.dbe.key.decrypt(s.sealed, 'test'), 'test', s.ul!))).toBe(id)
      expect(sink.stored.size).toBe(new Set(results.flatMap((r) => r.content)).size)
    } finally {
      await pool.close()
    }
  })

  it('initialWorkers: starts one worker, and the second only once files wait for the first', async () => {
    const { repo } = await newRepo(2)
    const chunker = new Chunker(randomPolynomial())
    const pool = (await SealPool.start(repo.dbe, { workers: 2, initialWorkers: 1, chunker }))!
    const sink = new CollectingSink()
    try {
      expect(pool.size).toBe(1)
      const write = (name: string, data: Uint8Array): Promise<{ path: string; data: Uint8Array }> =>
        writeFile(join(dir, name), data).then(() => ({ path: join(dir, name), data }))
      const store = (files: Array<{ path: string; data: Uint8Array }>): Promise<void> =>
        Promise.all(files.map((f) => pool.storeFile(f.path, f.data.length, sink))).then(async (results) => {
          await pool.drain()
          results.forEach((r, i) => expect(r.content).toEqual(chunker.split(files[i]!.data).map((c) => hashId(c))))
        })
      // a few small files fit in what one worker takes at once
      await store(await Promise.all([1, 2, 3].map((i) => write(`one-${i}`, randomBytes(10_000 * i)))))
      expect(pool.size).toBe(1)
      // 24 MiB queued behind the first worker's share: the second starts (it joins once its self-test passed,
      // which on a busy machine may be after the first worker is through the files)
      await store(await Promise.all(Array.from({ length: 24 }, (_, i) => write(`grow-${i}`, randomBytes(1 << 20)))))
      await vi.waitFor(() => expect(pool.size).toBe(2), { timeout: 20_000, interval: 20 })
      expect(sink.stored.size).toBe(new Set([...sink.claimed]).size)
      for (const [id, s] of sink.stored) expect(hashId(decompress(repo.dbe.key.decrypt(s.sealed, 'test'), 'test', s.ul!))).toBe(id)
    } finally {
      await pool.close()
    }
  })

  it("a changed file with its parent's chunks: takes the leading ones whose bytes still hash to them, cuts the rest", async () => {
    const { repo } = await newRepo(2)
    const options = { minSize: 1024, maxSize: 8192, averageBits: 11 }
    const chunker = new Chunker(randomPolynomial(), options)
    const pool = (await SealPool.start(repo.dbe, { workers: 1, chunker }))!
    try {
      const old = testData(200_000)
      const parentOf = (chunks: Uint8Array[]) => ({ ids: chunks.map((c) => hashId(c)), lengths: chunks.map((c) => c.length), leading: chunks.length - 1 })
      const parent = parentOf(chunker.split(old))
      const changed = new Uint8Array(old)
      changed.fill(7, 150_000, 150_100)
      const files = {
        appended: Buffer.concat([old, testData(30_000)]),
        changedInside: changed,
        truncated: old.subarray(0, 120_000),
        prepended: Buffer.concat([randomBytes(10), old]),
      }
      const sink = new CollectingSink() // one sink per pool
      const other = parentOf(new Chunker(randomPolynomial(), options).split(old))
      for (const id of [...parent.ids, ...other.ids]) sink.claimed.add(id) // stored already: never claimed
      for (const [name, data] of Object.entries(files)) {
        const path = join(dir, `parent-${name}`)
        await writeFile(path, data)
        const r = await pool.storeFile(path, data.length, sink, parent)
        await pool.drain()
        const chunks = chunker.split(data)
        expect(r.content, name).toEqual(chunks.map((c) => hashId(c)))
        expect(r.size).toBe(data.length)
        // a chunk of zeros can be one of the other chunker's too (zeros cut alike under every polynomial): stored already
        for (const c of chunks) {
          const id = hashId(c)
          expect(parent.ids.includes(id) || other.ids.includes(id) || sink.stored.get(id)?.size === c.length, name).toBe(true)
        }
      }
      // restic's settings: the large buffer, chunks across its 1 MiB blocks
      const big = new Chunker(chunker.pol)
      const oldBig = new Uint8Array(randomBytes(12 << 20)) // more than maxSize: two chunks at least
      const bigParent = parentOf(big.split(oldBig))
      expect(bigParent.leading).toBeGreaterThan(0)
      const pool3 = (await SealPool.start(repo.dbe, { workers: 1, chunker: big }))!
      try {
        const sink3 = new CollectingSink()
        for (const id of bigParent.ids) sink3.claimed.add(id)
        const data = Buffer.concat([oldBig, randomBytes(1 << 20)])
        await writeFile(join(dir, 'parent-big'), data)
        const r = await pool3.storeFile(join(dir, 'parent-big'), data.length, sink3, bigParent)
        await pool3.drain()
        expect(r.content).toEqual(big.split(data).map((c) => hashId(c)))
      } finally {
        await pool3.close()
      }
      // the leading chunks are taken without cutting: a parent cut otherwise (another polynomial) keeps its cuts
      const r = await pool.storeFile(join(dir, 'parent-appended'), files.appended.length, sink, other)
      await pool.drain()
      expect(r.content.slice(0, other.leading)).toEqual(other.ids.slice(0, other.leading))
      const rest = files.appended.subarray(other.lengths.slice(0, other.leading).reduce((a, b) => a + b, 0))
      expect(r.content.slice(other.leading)).toEqual(chunker.split(rest).map((c) => hashId(c)))
      // a chunk said to be stored must never be claimed: the worker fails rather than lose its bytes
      const pool2 = (await SealPool.start(repo.dbe, { workers: 1, chunker }))!
      try {
        await pool2.storeFile(join(dir, 'parent-appended'), files.appended.length, new CollectingSink(), parent)
        await expect(pool2.drain()).rejects.toThrow(/said to be stored, then claimed/)
      } finally {
        await pool2.close()
      }
    } finally {
      await pool.close()
    }
  })

  it('reports unreadable files as InputOutput errors naming them; never follows a symlink', async () => {
    const { repo } = await newRepo(1)
    const pool = (await SealPool.start(repo.dbe, { workers: 1, chunker: new Chunker(randomPolynomial()) }))!
    const sink = new CollectingSink()
    try {
      const target = join(dir, 'target')
      await writeFile(target, 'secret')
      await symlink(target, join(dir, 'link'))
      await expect(pool.storeFile(join(dir, 'missing'), 10, sink)).rejects.toMatchObject({ kind: 'InputOutput', message: expect.stringContaining('missing') })
      await expect(pool.storeFile(join(dir, 'link'), 6, sink)).rejects.toMatchObject({ kind: 'InputOutput', message: expect.stringContaining('link') })
      await expect(pool.storeFile(dir, 6, sink)).rejects.toMatchObject({ message: expect.stringContaining('changed type') })
      // the pool still works afterwards; v1: stored uncompressed
      const r = await pool.storeFile(target, 6, sink)
      await pool.drain()
      expect(r).toEqual({ content: [hashId(new TextEncoder().encode('secret'))], size: 6 })
      expect(sink.stored.get(r.content[0]!)!.ul).toBeUndefined()
    } finally {
      await pool.close()
    }
  })

  it('a Packer stores files through the pool: dedup against the index, every blob reads back', async () => {
    const { repo } = await newRepo(2)
    const indexed = await repo.toIndexed()
    const chunker = new Chunker(repo.config.chunkerPolynomial, { minSize: 2048, maxSize: 16384, averageBits: 12 })
    const pool = (await SealPool.start(repo.dbe, { workers: 2, chunker }))!
    try {
      const data = testData(400_000)
      const a = join(dir, 'packer-a')
      const b = join(dir, 'packer-b')
      await writeFile(a, data)
      await writeFile(b, data)
      const indexer = new Indexer(repo.dbe)
      const packer = new Packer(repo.dbe, 'data', indexer, indexed.index, { sealPool: pool })
      const [ra, rb] = await Promise.all([packer.storeFile(a, data.length), packer.storeFile(b, data.length)])
      const stats = await packer.finalize()
      await indexer.finalize()
      expect(rb).toEqual(ra)
      const unique = new Set(ra.content)
      expect(stats.blobs).toBe(unique.size)
      expect(stats.dataAdded).toBe(chunker.split(data).filter((c, i, all) => all.findIndex((d) => hashId(d) === hashId(c)) === i).reduce((n, c) => n + c.length, 0))
      const reread = await repo.toIndexed()
      const parts = await Promise.all(ra.content.map((id) => reread.getBlob('data', id)))
      expect(Buffer.compare(Buffer.concat(parts), data)).toBe(0)
    } finally {
      await pool.close()
    }
  })
})
