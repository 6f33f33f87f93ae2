import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Chunker, hashId, Indexer, MemoryBackend, Packer, SealPool, type CallOptions, type FileType, type Id, type WriteBackend } from '@rustic-ts/core/internal'
import { newRepo, tempDir } from './helpers.js'

/** Keeps everything but packs (measures the packer without storage cost). */
class NoPackBackend extends MemoryBackend {
  override async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    if (type !== 'pack') await super.writeBytes(type, id, cacheable, data, options)
  }
}

/** CPU seconds of the main thread (Linux /proc; clock ticks of 10 ms). */
function mainThreadCpu(): number {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** 1 MiB of text-like data (compresses to ~30 %). */
function textBlob(i: number): Uint8Array {
  const words = ['alpha ', 'beta ', 'gamma ', 'delta ', `x${i} `, '\n', 'lorem ipsum ']
  const b = Buffer.alloc(1 << 20)
  let p = 0
  while (p < b.length) p += b.write(Math.random() < 0.3 ? Math.random().toString(36) : words[(Math.random() * words.length) | 0]!, p)
  return new Uint8Array(b)
}

/**
 * Not a timed test: prints Packer.add throughput for 256 MiB of 1 MiB blobs (v2), with and without a
 * seal pool. Runs only with RUSTIC_BENCH=1.
 */
describe.skipIf(!process.env.RUSTIC_BENCH)('Packer throughput (RUSTIC_BENCH=1)', () => {
  const random = Array.from({ length: 256 }, () => new Uint8Array(randomBytes(1 << 20)))
  const text = Array.from({ length: 256 }, (_, i) => textBlob(i))

  async function measure(name: string, backend: WriteBackend, data: Uint8Array[], lanes: number, workers: number, hashInLoop = false): Promise<number> {
    const { repo } = await newRepo(2, backend)
    const pool = workers > 0 ? await SealPool.start(repo.dbe, { workers }) : undefined
    if (workers > 0) expect(pool).toBeDefined()
    const indexer = new Indexer(repo.dbe)
    const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index, { sealPool: pool })
    const blobs = data.map((d) => ({ id: hashId(d), data: d })) // ids as the archiver has them
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    const m0 = mainThreadCpu()
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let i = lane; i < blobs.length; i += lanes) {
          // hashInLoop: the caller computes the id on the same thread, as the archiver does
          await packer.add(hashInLoop ? hashId(blobs[i]!.data) : blobs[i]!.id, blobs[i]!.data)
        }
      }),
    )
    await packer.finalize()
    await indexer.finalize()
    const mibs = 256 / ((performance.now() - t0) / 1000)
    const main = mainThreadCpu() - m0
    const c = process.cpuUsage(c0)
    const total = (c.user + c.system) / 1e6
    await pool?.close()
    console.log(
      `${name} lanes=${lanes} workers=${workers}: ${mibs.toFixed(0)} MiB/s wall; CPU s: main ${main.toFixed(2)}, workers ${(total - main).toFixed(2)}, total ${total.toFixed(2)}`,
    )
    expect(packer.stats.blobs).toBe(256)
    return mibs
  }

  it('backup-like: chunk + hash + add of 256 MiB of text on one thread, memory backend', async () => {
    const chunker = new Chunker(0x3da3358b4dc173n)
    for (let rep = 0; rep < 3; rep++) {
      for (const workers of [0, 1, 2]) {
        const { repo } = await newRepo(2, new MemoryBackend())
        const pool = workers > 0 ? await SealPool.start(repo.dbe, { workers }) : undefined
        const indexer = new Indexer(repo.dbe)
        const packer = new Packer(repo.dbe, 'data', indexer, (await repo.toIndexed()).index, { sealPool: pool })
        const t0 = performance.now()
        const m0 = mainThreadCpu()
        // 4 "files" of 64 MiB at once
        await Promise.all(
          [0, 1, 2, 3].map(async (f) => {
            for await (const chunk of chunker.chunks(text.slice(f * 64, f * 64 + 64))) await packer.add(hashId(chunk), chunk)
          }),
        )
        await packer.finalize()
        await indexer.finalize()
        const mibs = 256 / ((performance.now() - t0) / 1000)
        console.log(`backup-like workers=${workers}: ${mibs.toFixed(0)} MiB/s wall; main thread CPU ${(mainThreadCpu() - m0).toFixed(2)} s`)
        await pool?.close()
      }
    }
  })

  it('archiver-like: id hashed on the calling thread, text data, memory backend', async () => {
    for (let rep = 0; rep < 3; rep++) {
      for (const workers of [0, 1, 2]) await measure('hash+add text', new MemoryBackend(), text, 4, workers, true)
    }
  })

  it('no pack storage, memory backend, local backend', async () => {
    for (let rep = 0; rep < 2; rep++) {
      for (const [dname, data] of [['random', random], ['text', text]] as const) {
        await measure(`nostore ${dname}`, new NoPackBackend(), data, 1, 0)
        await measure(`nostore ${dname}`, new NoPackBackend(), data, 4, 0)
        await measure(`nostore ${dname}`, new NoPackBackend(), data, 1, 1)
        await measure(`nostore ${dname}`, new NoPackBackend(), data, 4, 1)
        await measure(`nostore ${dname}`, new NoPackBackend(), data, 4, 2)
      }
    }
    await measure('memory random', new MemoryBackend(), random, 1, 0)
    await measure('memory random', new MemoryBackend(), random, 1, 1)
    const { dir, cleanup } = await tempDir()
    try {
      await measure('local random', new LocalBackend(dir + '/a'), random, 4, 0)
      await measure('local random', new LocalBackend(dir + '/b'), random, 4, 1)
    } finally {
      await cleanup()
    }
  })
})
