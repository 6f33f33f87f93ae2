import { randomBytes } from 'node:crypto'
import { cp, mkdir, mkdtemp, open, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository, type IndexedRepository } from '@rustic-ts/core'
import type { BlobLocation, Id } from '@rustic-ts/core/internal'
import { RangeRestorer } from '../../../src/workers/RangeRestorer.js'

const password = 'damaged-pack-pw'
let root: string
let src: string
/** Path in the snapshot -> content. */
const files = new Map<string, Buffer>()

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rustic-damaged-pack-'))
  src = join(root, 'src')
  await mkdir(join(src, 'd'), { recursive: true })
  for (let i = 0; i < 24; i++) files.set(`/d/small-${String(i).padStart(2, '0')}`, randomBytes(20_000 + i * 1000))
  files.set('/big-1', randomBytes(3_000_000))
  files.set('/big-2', randomBytes(2_500_000))
  for (const [p, data] of files) await writeFile(join(src, p), data)
  const repo = await Repository.init({}, { repository: new LocalBackend(join(root, 'repo')) }, { password }, { kdf: { N: 1024, r: 8, p: 1 } })
  await (await repo.toIndexed()).backup('.', { local: { cwd: src } })
  await repo.close()
}, 60_000)
afterAll(async () => rm(root, { recursive: true, force: true }))

/** A copy of the repository, opened. */
async function copyRepo(name: string): Promise<{ path: string; indexed: IndexedRepository }> {
  const path = join(root, name)
  await cp(join(root, 'repo'), path, { recursive: true })
  const repo = await Repository.open({}, { repository: new LocalBackend(path) }, { password })
  return { path, indexed: await repo.toIndexed() }
}

/** The snapshot's files whose content has a blob for which `hit` is true. */
async function filesHit(indexed: IndexedRepository, hit: (loc: BlobLocation) => boolean): Promise<string[]> {
  const { node } = await indexed.resolveSnapshotPath('latest')
  const out: string[] = []
  for await (const e of indexed.walk(node, '')) {
    if (e.node.type === 'file' && (e.node.content ?? []).some((id) => hit(indexed.index.get('data', id)!))) out.push(e.path)
  }
  return out.sort()
}

/** The one data pack (the test data fits in one) and where it is. */
function dataPack(indexed: IndexedRepository, repoPath: string): { id: Id; path: string } {
  const loc = indexed.index.locations('data').next().value!
  return { id: loc.packId, path: join(repoPath, 'data', loc.packId.slice(0, 2), loc.packId) }
}

async function restoreDamaged(name: string, damage: (indexed: IndexedRepository, repoPath: string) => Promise<(loc: BlobLocation) => boolean>, workers: number) {
  const { path, indexed } = await copyRepo(`${name}-${workers}`)
  try {
    const hit = await damage(indexed, path)
    const expected = await filesHit(indexed, hit)
    const target = join(root, `out-${name}-${workers}`)
    const { node } = await indexed.resolveSnapshotPath('latest')
    const warnings: string[] = []
    const plan = await indexed.planRestore(node, target, { workers })
    const stats = await indexed.restore(plan, { onWarning: (w) => void warnings.push(w) })
    expect(expected.length).toBeGreaterThan(0)
    expect(expected.length).toBeLessThan(files.size)
    expect(stats.damaged.map((d) => d.path).sort()).toEqual(expected)
    for (const d of stats.damaged) {
      expect(d.fsPath).toBe(join(target, d.path))
      expect(warnings).toContain(`${d.fsPath} is not restored completely: ${d.error}`)
    }
    for (const [p, data] of files) {
      const got = await readFile(join(target, p))
      if (expected.includes(p)) expect(got.length).toBe(data.length)
      else expect(got.equals(data), p).toBe(true)
    }
    return stats
  } finally {
    await indexed.repo.close()
  }
}

describe('restore with damaged packs restores everything else and names the damaged files', () => {
  for (const workers of [2, 0]) {
    it(`a pack cut short (${workers ? 'on workers' : 'on the main thread'})`, async () => {
      await restoreDamaged('cut', async (indexed, repoPath) => {
        const pack = dataPack(indexed, repoPath)
        // cut inside the pack's last blob: the files holding it are damaged, the others are not (how
        // the files' blobs are laid out in the pack depends on which seal worker finished first)
        let last = 0
        for (const loc of indexed.index.locations('data')) if (loc.packId === pack.id) last = Math.max(last, loc.offset)
        const size = last + 1
        await truncate(pack.path, size)
        return (loc) => loc.packId === pack.id && loc.offset + loc.length > size
      }, workers)
    })

    it(`a blob whose bytes changed (${workers ? 'on workers' : 'on the main thread'})`, async () => {
      const stats = await restoreDamaged('flipped', async (indexed, repoPath) => {
        const pack = dataPack(indexed, repoPath)
        const { node } = await indexed.resolveSnapshotPath('latest:/d/small-07')
        const loc = indexed.index.get('data', node.content![0]!)!
        const fh = await open(pack.path, 'r+')
        await fh.write(Buffer.from([0xff ^ (await readFile(pack.path))[loc.offset + 40]!]), 0, 1, loc.offset + 40)
        await fh.close()
        return (l) => l.packId === loc.packId && l.offset === loc.offset
      }, workers)
      expect(stats.damaged[0]!.error).toMatch(/MAC check failed for data blob [0-9a-f]{64} in pack [0-9a-f]{64}/)
    })
  }

  it('a pack that is gone', async () => {
    const { path, indexed } = await copyRepo('gone')
    try {
      const pack = dataPack(indexed, path)
      await unlink(pack.path)
      const target = join(root, 'out-gone')
      const { node } = await indexed.resolveSnapshotPath('latest')
      const stats = await indexed.restore(await indexed.planRestore(node, target), { onWarning: () => {} })
      expect(stats.damaged.map((d) => d.path).sort()).toEqual([...files.keys()].sort())
      expect(stats.damaged[0]!.error).toMatch(/not found/)
      for (const [p, data] of files) expect((await stat(join(target, p))).size).toBe(data.length)
    } finally {
      await indexed.repo.close()
    }
  })
})

describe('restore holds a bounded number of bytes of pack data at once', () => {
  /** A local backend whose ranged reads take a while, recording the most bytes read at once (without a local path: every read goes through it). */
  class SlowBackend extends LocalBackend {
    // (restore reads what it cannot find as a local file through readPartial)
    override async localPath(): Promise<string> {
      throw new Error('no local path here')
    }
    current = 0
    most = 0
    override async readPartial(...args: Parameters<LocalBackend['readPartial']>): Promise<Uint8Array> {
      const length = args[4]
      this.current += length
      this.most = Math.max(this.most, this.current)
      try {
        await new Promise((r) => setTimeout(r, 5))
        return await super.readPartial(...args)
      } finally {
        this.current -= length
      }
    }
  }

  for (const workers of [0, 2]) {
    it(`readMemory bounds the reads under way, whatever readConcurrency allows (workers: ${workers})`, async () => {
      const backend = new SlowBackend(join(root, 'repo'))
      const repo = await Repository.open({}, { repository: backend }, { password })
      try {
        const indexed = await repo.toIndexed()
        const { node } = await indexed.resolveSnapshotPath('latest')
        const target = join(root, `out-bounded-${workers}`)
        const readMemory = 100_000
        // one read per blob (20-44 kB): 8 could run at once, but only 2-4 fit in readMemory
        const plan = await indexed.planRestore(node, target, { workers, include: ['/d'], maxReadGap: 0, maxReadSize: 1, readConcurrency: 8, readMemory })
        expect(plan.reads.length).toBe(24)
        backend.most = 0
        await indexed.restore(plan)
        expect(backend.most).toBeGreaterThan(44_000) // reads did overlap
        expect(backend.most).toBeLessThanOrEqual(readMemory)
        for (const [p, data] of files) if (p.startsWith('/d/')) expect((await readFile(join(target, p))).equals(data), p).toBe(true)
      } finally {
        await repo.close()
      }
    })
  }
})

describe('restore reads pack ranges into reused buffers', () => {
  /** A local backend recording the `into` buffer of each ranged read of data and whether the data came back in it (without a local path). */
  class IntoBackend extends LocalBackend {
    override async localPath(): Promise<string> {
      throw new Error('no local path here')
    }
    reads = 0
    inPlace = 0
    buffers = new Set<ArrayBufferLike>()
    override async readPartial(...args: Parameters<LocalBackend['readPartial']>): Promise<Uint8Array> {
      const into = args[5]?.into
      const data = await super.readPartial(...args)
      if (args[2]) return data // (a tree pack, read while planning)
      this.reads++
      if (into !== undefined && data.buffer === into.buffer) this.inPlace++
      if (into !== undefined) this.buffers.add(into.buffer)
      return data
    }
  }

  for (const workers of [0, 2]) {
    it(`every read goes into one of a few reused buffers (workers: ${workers})`, async () => {
      const backend = new IntoBackend(join(root, 'repo'))
      const repo = await Repository.open({}, { repository: backend }, { password })
      try {
        const indexed = await repo.toIndexed()
        const { node } = await indexed.resolveSnapshotPath('latest')
        const target = join(root, `out-into-${workers}`)
        // a read per blob (20 kB to 3 MB), at most 2 at once: always room for both in 8 MiB of buffers
        const plan = await indexed.planRestore(node, target, { workers, maxReadGap: 0, maxReadSize: 1, readConcurrency: 2, readMemory: 8 << 20 })
        expect(plan.reads.length).toBeGreaterThan(24)
        await indexed.restore(plan)
        expect(backend.inPlace).toBe(backend.reads)
        // the same few buffers, read into again and again (shared with the workers, never transferred)
        expect(backend.buffers.size).toBeLessThan(backend.reads / 4)
        for (const [p, data] of files) expect((await readFile(join(target, p))).equals(data), p).toBe(true)
      } finally {
        await repo.close()
      }
    })
  }
})

// over 16 MiB of pack data with `workers: 2`: one worker thread and the main thread share the reads
// (the main thread takes one whenever the worker has one); every byte, mode and mtime as in the source
it('the main thread works on reads too when there is room for two threads', async () => {
  const base = join(root, 'two-threads')
  const from = join(base, 'src')
  await mkdir(from, { recursive: true })
  const data = new Map<string, Buffer>()
  for (let i = 0; i < 20; i++) data.set(`f${i}`, randomBytes(1_000_000 + i * 7_000))
  let n = 0
  for (const [name, bytes] of data) await writeFile(join(from, name), bytes, { mode: n++ % 2 ? 0o640 : 0o604 })
  const repo = await Repository.init({}, { repository: new LocalBackend(join(base, 'repo')) }, { password }, { kdf: { N: 1024, r: 8, p: 1 } })
  try {
    const indexed = await repo.toIndexed()
    await indexed.backup('.', { local: { cwd: from } })
    const { node } = await indexed.resolveSnapshotPath('latest')
    const target = join(base, 'out')
    const plan = await indexed.planRestore(node, target, { workers: 2 })
    expect(plan.stats.bytesToRead).toBeGreaterThan(16 << 20)
    // (the workers have their own copy of the class: this counts the main thread's ranges only)
    const here = vi.spyOn(RangeRestorer.prototype, 'step')
    const stats = await indexed.restore(plan)
    expect(here).toHaveBeenCalled()
    here.mockRestore()
    expect(stats.filesWritten).toBe(data.size)
    for (const [name, bytes] of data) {
      expect((await readFile(join(target, name))).equals(bytes), name).toBe(true)
      const [want, got] = await Promise.all([stat(join(from, name), { bigint: true }), stat(join(target, name), { bigint: true })])
      expect(got.mode, name).toBe(want.mode)
      expect(got.mtimeNs, name).toBe(want.mtimeNs)
    }
  } finally {
    await repo.close()
  }
}, 60_000)
