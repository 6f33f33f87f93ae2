import { randomBytes } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Key, MemoryBackend, Repository, type CallOptions, type CheckResult, type FileType, type Id } from '@rustic-ts/core/internal'
import { mergePackParts } from '../../../src/commands/check/PackVerifier.js'
import { planPackParts } from '../../../src/commands/check/planPackParts.js'
import { planPackReads } from '../../../src/commands/check/planPackReads.js'
import { verifyPack } from '../../../src/commands/check/verifyPack.js'
import { VerifyPool } from '../../../src/commands/check/VerifyPool.js'
import { scryptInWorkers } from '../../../src/crypto/scryptInWorkers.js'
import { copyBackend, flipByte, openCopy, PASSWORD, twoBackups, type TwoBackups } from '../twoBackups.js'
import { makePack } from './packFixture.js'

const key = Key.random()

describe('VerifyPool', () => {
  // A broken worker program does not fail a check (it falls back to the main thread), so check that the
  // pool starts: its start-up self-test verifies a pack of a plain and a compressed blob sent in pieces.
  it('starts its workers, which pass their self-test', async () => {
    const pool = await VerifyPool.start(key, 2)
    expect(pool?.size).toBe(2)
    await pool!.close()
    expect(await VerifyPool.start(key, 0)).toBeUndefined()
  })

  it("runs its first worker on an idle thread given (the key derivation's), which it ends on close", async () => {
    let given: Worker | undefined
    await scryptInWorkers(randomBytes(8), randomBytes(64), { N: 256, r: 2, p: 2 }, { threads: 1, keepThread: (t) => (given = t) })
    const thread = given!
    const pool = (await VerifyPool.start(key, 2, [thread]))!
    try {
      expect(pool.size).toBe(2)
      const { bytes, entries, id } = makePack(key, [randomBytes(3000), Buffer.from('zz'.repeat(9000))])
      const { tailStart, pieces } = planPackReads(bytes.length, entries, 4000)
      // lane 0 runs on the thread given
      const s = pool.begin(id as Id, bytes.length, entries, tailStart, bytes.slice(tailStart), false, 0)
      await Promise.all(pieces.map((p) => s.push(bytes.slice(p.offset, p.offset + p.length))))
      expect(await s.end()).toEqual(verifyPack(key, id as Id, bytes, entries))
      expect(thread.threadId).toBeGreaterThan(0)
    } finally {
      await pool.close()
    }
    expect(thread.threadId).toBe(-1)
  })

  it('verifies packs sent in pieces as verifyPack does; handed-over pieces are moved, shared ones copied', async () => {
    const pool = (await VerifyPool.start(key, 2))!
    try {
      const { bytes, entries, id } = makePack(key, [randomBytes(3000), Buffer.from('zz'.repeat(9000)), randomBytes(20_000), Buffer.from('y'.repeat(50_000))])
      const damaged = bytes.slice()
      damaged[entries[2]!.offset + 5]! ^= 1
      for (const b of [bytes, damaged]) {
        const { tailStart, pieces } = planPackReads(b.length, entries, 10_000)
        expect(pieces.length).toBeGreaterThan(2)
        const tail = b.slice(tailStart)
        const s = pool.begin(id as Id, b.length, entries, tailStart, tail)
        const handed = pieces.map((p) => b.slice(p.offset, p.offset + p.length))
        const pushed = handed.map((piece, i) => s.push(piece, i === 0))
        expect(handed.map((p) => p.byteLength === 0)).toEqual(handed.map((_, i) => i > 0))
        expect(tail.byteLength).toBe(0)
        await Promise.all(pushed)
        expect(await s.end()).toEqual(verifyPack(key, id as Id, b, entries))
      }
    } finally {
      await pool.close()
    }
  })

  it('verifies a pack in parts, each on either worker, merged as verifyPack finds it', async () => {
    const pool = (await VerifyPool.start(key, 2))!
    try {
      const { bytes, entries, id } = makePack(key, [randomBytes(3000), Buffer.from('zz'.repeat(9000)), randomBytes(20_000), Buffer.from('y'.repeat(50_000))])
      const damaged = bytes.slice()
      damaged[entries[3]!.offset + 5]! ^= 1
      for (const b of [bytes, damaged]) {
        const parts = planPackParts(b.length, entries, planPackReads(b.length, entries, 1), 3)
        expect(parts).toHaveLength(3)
        const found = await Promise.all(
          parts.map(async ({ part, plan: { tailStart, pieces }, blobs }, i) => {
            const s = pool.begin(id as Id, b.length, blobs, tailStart, b.slice(tailStart), false, i % 2, part)
            await Promise.all(pieces.map((p) => s.push(b.slice(p.offset, p.offset + p.length))))
            return s.end()
          }),
        )
        expect(mergePackParts(found)).toEqual(verifyPack(key, id as Id, b, entries))
      }
    } finally {
      await pool.close()
    }
  })

  it('a pack whose pieces do not add up fails with an internal error, not a finding', async () => {
    const pool = (await VerifyPool.start(key, 1))!
    try {
      const { bytes, entries, id } = makePack(key, [randomBytes(3000)])
      const { tailStart } = planPackReads(bytes.length, entries, Infinity)
      const s = pool.begin(id as Id, bytes.length, entries, tailStart, bytes.slice(tailStart))
      await s.push(bytes.slice(0, 10))
      await expect(s.end()).rejects.toThrow(/a verify worker failed: .*were not all given/)
    } finally {
      await pool.close()
    }
  })
})

describe('check --read-data on the workers and on the main thread', () => {
  let f: TwoBackups
  beforeAll(async () => {
    f = await twoBackups()
  })
  afterAll(async () => {
    await f?.cleanup()
  })

  const sorted = (r: CheckResult): string[] => r.findings.map((x) => `${x.kind} ${x.message}`).sort()

  it('find the same problems in packs the walk downloads and in packs read in pieces', async () => {
    const { repo, cold } = await openCopy(f)
    const trees = [...(await (await repo.toIndexed()).index.packs())].filter(([, t]) => t === 'tree').map(([id]) => id)
    await flipByte(cold, 'pack', f.lostPack, 300)
    await flipByte(cold, 'pack', trees[0]!, 50)
    const results: CheckResult[] = []
    for (const options of [{ workers: 2 }, { workers: 0 }, { workers: 2, readDataMemory: 1 }]) results.push(await (repo as Repository).check({ readData: true, ...options }))
    const [workers, main, tiny] = results
    expect(workers!.findings.some((x) => x.kind === 'blobDamaged' && x.file?.id === f.lostPack)).toBe(true)
    expect(workers!.findings.some((x) => x.kind === 'packHashMismatch' && x.file?.id === trees[0])).toBe(true)
    expect(sorted(main!)).toEqual(sorted(workers!))
    expect(sorted(tiny!)).toEqual(sorted(workers!))
    for (const r of results) expect([r.packsRead, r.bytesRead]).toEqual([workers!.packs, workers!.bytesRead])
  })
})

/**
 * A memory backend whose pack files are also plain files (written on demand from its own bytes), as a local
 * backend's are; `cut` packs get a file shorter than the pack, as if it had changed after the listing.
 */
class FilesBackend extends MemoryBackend {
  readonly partialPackReads = new Set<Id>()
  /** The files handed to workers to read. */
  readonly localPaths = new Set<Id>()
  readonly cut = new Set<Id>()
  constructor(private readonly folder: string) {
    super('files')
  }
  async localPath(type: FileType, id: Id, _options?: CallOptions): Promise<string> {
    const path = join(this.folder, `${type}-${id}`)
    this.localPaths.add(id)
    const bytes = await this.readFull(type, id)
    await writeFile(path, this.cut.has(id) ? bytes.subarray(0, bytes.length - 100) : bytes)
    return path
  }
  override async readPartial(type: FileType, id: Id, cacheable: boolean, offset: number, length: number, options?: CallOptions): Promise<Uint8Array> {
    if (type === 'pack') this.partialPackReads.add(id)
    return super.readPartial(type, id, cacheable, offset, length, options)
  }
}

describe('check --read-data where the packs are local files', () => {
  let f: TwoBackups
  let dir: string
  beforeAll(async () => {
    f = await twoBackups()
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-verify-files-'))
  })
  afterAll(async () => {
    await f?.cleanup()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const sorted = (r: CheckResult): string[] => r.findings.map((x) => `${x.kind} ${x.message}`).sort()

  it('the workers read the packs they verify from the files, with the same findings; a file they cannot read is read as usual', async () => {
    const { repo: plainRepo, cold } = await openCopy(f)
    const data = [...(await (await plainRepo.toIndexed()).index.packs())].filter(([, t]) => t === 'data').map(([id]) => id)
    await flipByte(cold, 'pack', f.lostPack, 300)
    const files = new FilesBackend(dir)
    const copied = await copyBackend(cold)
    for (const type of ['config', 'key', 'index', 'snapshot', 'pack'] as const) {
      for (const id of await copied.list(type)) await files.writeBytes(type, id, false, await copied.readFull(type, id))
    }
    const repo = await Repository.open({}, { repository: files }, { password: PASSWORD })
    const want = await plainRepo.check({ readData: true, workers: 2 })
    expect(want.findings.some((x) => x.kind === 'blobDamaged' && x.file?.id === f.lostPack)).toBe(true)

    const got = await repo.check({ readData: true, workers: 2, readDataMemory: 64 << 10 })
    expect(sorted(got)).toEqual(sorted(want))
    expect([got.packsRead, got.bytesRead]).toEqual([want.packsRead, want.bytesRead])
    // the workers took data packs (the main thread joins only once the walk is done) and read them from the
    // files (the last packs are verified in parts, on every thread: this one reads some of them too)
    expect(data.filter((id) => files.localPaths.has(id)).length).toBeGreaterThan(0)

    // files shorter than listed: nothing is reported from them, the packs are read as usual
    files.partialPackReads.clear()
    for (const id of data) files.cut.add(id)
    const cut = await repo.check({ readData: true, workers: 2 })
    expect(sorted(cut)).toEqual(sorted(want))
    expect(data.every((id) => files.partialPackReads.has(id))).toBe(true)
  })
})
