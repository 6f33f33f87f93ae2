import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  hashId,
  Key,
  MemoryBackend,
  parseIndex,
  Repository,
  serializeIndex,
  serializePackHeader,
  type CallOptions,
  type CheckResult,
  type FileType,
  type Id,
  type IndexBlob,
} from '@rustic-ts/core/internal'
import { headVerification, type HeadPack } from '../../../src/commands/check/headPacks.js'
import { verifyPack } from '../../../src/commands/check/verifyPack.js'
import { VerifyPool } from '../../../src/commands/check/VerifyPool.js'
import { copyBackend, flipByte, openCopy, PASSWORD, twoBackups, type TwoBackups } from '../twoBackups.js'
import { makePack } from './packFixture.js'

const key = Key.random()

describe('a verify worker verifying a pack by its own header (VerifyPool.verifyHead, headVerification)', () => {
  let dir: string
  let pool: VerifyPool
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-head-'))
    pool = (await VerifyPool.start(key, 1))!
  })
  afterAll(async () => {
    await pool?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const plains = (): Uint8Array[] => [randomBytes(3000), Buffer.from('zz'.repeat(9000)), randomBytes(20_000), Buffer.from('y'.repeat(50_000))]

  /** What the worker finds for `bytes` as pack `id` from a file, and what headVerification makes of it against `blobs`. */
  async function viaHead(id: string, bytes: Uint8Array, blobs: IndexBlob[], size = bytes.length) {
    const path = join(dir, `pack-${id}-${randomBytes(4).toString('hex')}`)
    await writeFile(path, bytes)
    const result = pool.verifyHead(0, path, id as Id, size, 10_000)
    const head: HeadPack = { id: id as Id, size, lane: 0, result }
    return { found: await result, adopted: await headVerification(head, { id: id as Id, size: bytes.length, blobs }) }
  }

  it('a pack whose header agrees with the index: what verifying it with the index entries finds, sound or damaged', async () => {
    const { bytes, entries, id } = makePack(key, plains())
    const damaged = bytes.slice()
    damaged[entries[2]!.offset + 5]! ^= 1
    for (const b of [bytes, damaged]) {
      const { found, adopted } = await viaHead(id, b, entries)
      expect(found?.head).toEqual(entries.map((e) => expect.objectContaining(e)))
      const want = verifyPack(key, id as Id, b, entries)
      expect(adopted).toEqual(want)
      // index entries in another order: the same entries
      expect(await headVerification({ id: id as Id, size: b.length, lane: 0, result: Promise.resolve(found) }, { id: id as Id, size: b.length, blobs: [...entries].reverse() })).toEqual(want)
    }
    expect(verifyPack(key, id as Id, damaged, entries).problems.map((p) => p.kind)).toEqual(['packHashMismatch', 'blobDamaged'])
  })

  it('index entries that differ from the header: not taken (the pack is verified as usual)', async () => {
    const { bytes, entries, id } = makePack(key, plains())
    const changes: Array<(e: IndexBlob[]) => IndexBlob[]> = [
      (e) => e.slice(1),
      (e) => e.map((b, i) => (i === 1 ? { ...b, length: b.length - 1 } : b)),
      (e) => e.map((b, i) => (i === 1 ? { ...b, uncompressedLength: undefined } : b)),
      (e) => e.map((b, i) => (i === 0 ? { ...b, uncompressedLength: 0 } : b)),
      (e) => e.map((b, i) => (i === 2 ? { ...b, type: 'tree' as const } : b)),
      (e) => e.map((b, i) => (i === 3 ? { ...b, id: entries[0]!.id } : b)),
      (e) => [...e, { ...e[3]!, offset: e[3]!.offset + e[3]!.length }],
    ]
    for (const change of changes) {
      const { found, adopted } = await viaHead(id, bytes, change(entries.map((e) => ({ ...e }))))
      expect(found).toBeDefined()
      expect(adopted).toBeUndefined()
    }
    // another pack's result, or another size
    const other = await viaHead(id, bytes, entries, bytes.length + 1)
    expect(other.adopted).toBeUndefined()
  })

  it('a header that cannot be read, a tree pack, a file shorter than listed: no result', async () => {
    const { bytes, entries, id } = makePack(key, plains())
    const header = bytes.slice()
    header[bytes.length - 10]! ^= 1
    const length = bytes.slice()
    length[bytes.length - 1]! ^= 0x40
    for (const b of [header, length]) expect((await viaHead(id, b, entries)).found).toBeUndefined()
    const tree = makeTreePack(3)
    expect((await viaHead(tree.id, tree.bytes, tree.entries)).found).toBeUndefined()
    expect((await viaHead(id, bytes.subarray(0, bytes.length - 100), entries, bytes.length)).found).toBeUndefined()
  })
})

/** A pack of `n` tree blobs (their contents do not matter here: the worker stops at the header). */
function makeTreePack(n: number): { bytes: Uint8Array; entries: IndexBlob[]; id: string } {
  const { bytes, entries } = makePack(key, Array.from({ length: n }, () => Buffer.from('{"nodes":[]}\n')))
  const tree = entries.map((e) => ({ ...e, type: 'tree' as const }))
  const body = bytes.subarray(0, tree.reduce((n, e) => n + e.length, 0))
  const header = key.encrypt(serializePackHeader(tree))
  const len = new Uint8Array(4)
  new DataView(len.buffer).setUint32(0, header.length, true)
  const out = new Uint8Array(Buffer.concat([body, header, len]))
  return { bytes: out, entries: tree, id: hashId(out) }
}

/**
 * A memory backend whose pack files are also plain files (written on demand from its own bytes), as a local
 * backend's are.
 */
class FilesBackend extends MemoryBackend {
  /** How often each pack's file was handed out (to a worker to read). */
  readonly paths = new Map<Id, number>()
  /** Packs read in part through the backend (by this thread). */
  readonly partial = new Set<Id>()
  constructor(private readonly folder: string) {
    super('files')
  }
  override async readPartial(type: FileType, id: Id, cacheable: boolean, offset: number, length: number, options?: CallOptions): Promise<Uint8Array> {
    if (type === 'pack') this.partial.add(id)
    return super.readPartial(type, id, cacheable, offset, length, options)
  }
  async localPath(type: FileType, id: Id, _options?: CallOptions): Promise<string> {
    const path = join(this.folder, `${type}-${id}`)
    if (type === 'pack') this.paths.set(id, (this.paths.get(id) ?? 0) + 1)
    await writeFile(path, await this.readFull(type, id))
    return path
  }
}

describe('check --read-data: the workers begin packs by their headers before the index is loaded', () => {
  let f: TwoBackups
  let dir: string
  beforeAll(async () => {
    f = await twoBackups()
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-head-check-'))
  })
  afterAll(async () => {
    await f?.cleanup()
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  const all = (r: CheckResult): string[] => r.findings.map((x) => `${x.level} ${x.kind} ${x.message}`)

  /** `cold` as a repository of local files. */
  async function asFiles(cold: MemoryBackend): Promise<{ repo: Repository; files: FilesBackend }> {
    const files = new FilesBackend(await mkdtemp(join(dir, 'repo-')))
    const copied = await copyBackend(cold)
    for (const type of ['config', 'key', 'index', 'snapshot', 'pack'] as const) {
      for (const id of await copied.list(type)) await files.writeBytes(type, id, false, await copied.readFull(type, id))
    }
    return { repo: await Repository.open({}, { repository: files }, { password: PASSWORD }), files }
  }

  /**
   * Checks `repo` with workers (recording the packs begun by their headers, and which of them were read again) and
   * on this thread alone (no such packs).
   */
  async function both({ repo, files }: { repo: Repository; files: FilesBackend }): Promise<{
    heads: Array<{ id: Id; verified: boolean }>
    readAgain: Id[]
    withHeads: CheckResult
    usual: CheckResult
  }> {
    files.paths.clear()
    files.partial.clear()
    const heads: Array<Promise<{ id: Id; verified: boolean }>> = []
    const original = VerifyPool.prototype.verifyHead
    vi.spyOn(VerifyPool.prototype, 'verifyHead').mockImplementation(function (this: VerifyPool, ...args: Parameters<VerifyPool['verifyHead']>) {
      const r = original.apply(this, args)
      heads.push(r.then((x) => ({ id: args[2], verified: x !== undefined })))
      return r
    })
    const withHeads = await repo.check({ readData: true, workers: 1 })
    vi.restoreAllMocks()
    const begun = await Promise.all(heads)
    const readAgain = begun.filter((h) => (files.paths.get(h.id) ?? 0) > 1 || files.partial.has(h.id)).map((h) => h.id)
    const usual = await repo.check({ readData: true, workers: 0 })
    return { heads: begun, readAgain, withHeads, usual }
  }

  /** The largest pack of `backend`. */
  async function largest(backend: MemoryBackend): Promise<Id> {
    const sizes = await backend.listWithSize('pack')
    return [...sizes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0]
  }

  it('a sound repository: the largest pack is verified by its header, the findings are the usual ones', async () => {
    const { cold } = await openCopy(f)
    const { heads, readAgain, withHeads, usual } = await both(await asFiles(cold))
    expect(heads).toEqual([{ id: await largest(cold), verified: true }])
    expect(readAgain).toEqual([])
    expect(all(withHeads)).toEqual(all(usual))
    expect(withHeads.findings.filter((x) => x.level === 'error')).toEqual([])
    expect([withHeads.packsRead, withHeads.bytesRead]).toEqual([usual.packsRead, usual.bytesRead])
  })

  it('a damaged blob in the pack begun by its header: the same findings as the usual way', async () => {
    const { cold } = await openCopy(f)
    const big = await largest(cold)
    await flipByte(cold, 'pack', big, 300)
    const { heads, readAgain, withHeads, usual } = await both(await asFiles(cold))
    expect(heads).toEqual([{ id: big, verified: true }])
    expect(readAgain).toEqual([])
    expect(withHeads.findings.some((x) => x.kind === 'blobDamaged' && x.file?.id === big)).toBe(true)
    expect(all(withHeads)).toEqual(all(usual))
  })

  it('a damaged header, or index entries that differ from the header: the pack is verified as usual', async () => {
    const { cold } = await openCopy(f)
    const big = await largest(cold)
    const size = new Map(await cold.listWithSize('pack')).get(big)!
    await flipByte(cold, 'pack', big, size - 20)
    const one = await both(await asFiles(cold))
    expect(one.heads).toEqual([{ id: big, verified: false }])
    expect(one.readAgain).toEqual([big])
    expect(one.withHeads.findings.some((x) => x.kind === 'packHeaderDamaged' && x.file?.id === big)).toBe(true)
    expect(all(one.withHeads)).toEqual(all(one.usual))

    // an index whose entries for the pack differ from its (sound) header: one blob's length is off by one
    const { repo: plain, cold: other } = await openCopy(f)
    for (const id of await other.list('index')) {
      const file = parseIndex(await plain.dbe.readEncryptedFull('index', id), `index ${id}`)
      const pack = file.packs.find((p) => p.id === big)
      if (!pack) continue
      pack.blobs[0]!.length -= 1
      await other.remove('index', id, false)
      await plain.dbe.saveFile('index', serializeIndex(file))
    }
    const two = await both(await asFiles(other))
    expect(two.heads).toEqual([{ id: big, verified: true }])
    expect(two.readAgain).toEqual([big])
    expect(two.withHeads.findings.some((x) => x.kind === 'packHeaderMismatch' && x.file?.id === big)).toBe(true)
    expect(all(two.withHeads)).toEqual(all(two.usual))
  })

  it('a pack missing from the index (the largest): verified by its header but not taken; the findings are the usual ones', async () => {
    const { cold } = await openCopy(f)
    const sizes = new Map(await cold.listWithSize('pack'))
    const { repo: plain } = await openCopy(f)
    const { bytes, id } = makePack(plain.key, [randomBytes(Math.max(...sizes.values()) + 1000)])
    await cold.writeBytes('pack', id as Id, false, bytes)
    const { heads, readAgain, withHeads, usual } = await both(await asFiles(cold))
    expect(heads).toEqual([{ id, verified: true }])
    expect(readAgain).toEqual([])
    expect(withHeads.findings.some((x) => x.file?.id === id)).toBe(true)
    expect(all(withHeads)).toEqual(all(usual))
    expect([withHeads.packsRead, withHeads.bytesRead]).toEqual([usual.packsRead, usual.bytesRead])
  })
})
