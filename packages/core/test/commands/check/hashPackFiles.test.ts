import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashId, hashPackFiles, Key, MemoryBackend, Repository, type CallOptions, type CheckResult, type FileType, type Id } from '@rustic-ts/core/internal'
import { BlobVerifier } from '../../../src/commands/check/BlobVerifier.js'
import { PackVerifier } from '../../../src/commands/check/PackVerifier.js'
import { planPackReads } from '../../../src/commands/check/planPackReads.js'
import { flipByte, openCopy, PASSWORD, twoBackups, type TwoBackups } from '../twoBackups.js'
import { makePack } from './packFixture.js'

const never = new AbortController().signal

describe('hashPackFiles', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-hashpacks-'))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  /** Writes `bytes` to a file; its path. */
  async function file(bytes: Uint8Array): Promise<string> {
    const path = join(dir, randomBytes(8).toString('hex'))
    await writeFile(path, bytes)
    return path
  }

  it('gives the packs whose bytes hash to their id, with their size; leaves out the others', async () => {
    const good = randomBytes(1_300_000)
    const small = randomBytes(10)
    const wrong = randomBytes(5000)
    const paths = new Map<Id, string | undefined>([
      [hashId(good) as Id, await file(good)],
      [hashId(small) as Id, await file(small)],
      // bytes that are not the id's
      [hashId(randomBytes(5000)) as Id, await file(wrong)],
      // a file shorter than listed (the id of the longer bytes)
      [hashId(Buffer.concat([good, Buffer.from('x')])) as Id, await file(good)],
      // no local file, and a file that is not there
      [hashId(Buffer.from('none')) as Id, undefined],
      [hashId(Buffer.from('gone')) as Id, join(dir, 'gone')],
    ])
    const listed: Array<[Id, number]> = [...paths.keys()].map((id, i) => [id, [good.length, small.length, 5000, good.length + 1, 4, 4][i]!])
    const hashed = await hashPackFiles(listed, async (id) => paths.get(id), never)
    expect([...hashed]).toEqual([
      [hashId(good), good.length],
      [hashId(small), small.length],
    ])
    // a listed size other than the file's (a longer file: its first bytes do not hash to the id)
    expect(await hashPackFiles([[hashId(good) as Id, good.length - 1]], async (id) => paths.get(id), never)).toEqual(new Map())
  })

  it('stops when the signal aborts: a pack not finished by then is left out, the ones finished before are kept', async () => {
    const first = randomBytes(1000)
    const second = randomBytes(4 << 20)
    const third = randomBytes(1000)
    const paths = new Map<Id, string>([
      [hashId(first) as Id, await file(first)],
      [hashId(second) as Id, await file(second)],
      [hashId(third) as Id, await file(third)],
    ])
    const stop = new AbortController()
    const listed: Array<[Id, number]> = [
      [hashId(first) as Id, first.length],
      [hashId(second) as Id, second.length],
      [hashId(third) as Id, third.length],
    ]
    let turns = 0
    const hashed = await hashPackFiles(
      listed,
      async (id) => {
        // two turns of the event loop into the second pack (of 8 slices), the signal aborts
        if (id === hashId(second)) setImmediate(() => setImmediate(() => stop.abort()))
        turns++
        return paths.get(id)
      },
      stop.signal,
    )
    expect([...hashed]).toEqual([[hashId(first), first.length]])
    expect(turns).toBe(2)
  })
})

describe('PackVerifier of a pack hashed before', () => {
  const key = Key.random()
  it('does not hash it again (a wrong id goes unnoticed), but checks the header and every blob', () => {
    const { bytes, entries, id } = makePack(key, [randomBytes(3000), Buffer.from('z'.repeat(9000)), randomBytes(2000)])
    const { tailStart } = planPackReads(bytes.length, entries, 4000)
    const other = hashId(randomBytes(10)) as Id
    const verify = (b: Uint8Array, packId: Id, hashed: boolean): string[] => {
      const v = new PackVerifier(key, packId, b.length, entries, tailStart, b.slice(tailStart), new BlobVerifier(key), undefined, undefined, hashed)
      v.push(b.subarray(0, tailStart))
      return v.finish().problems.map((p) => p.kind)
    }
    expect(verify(bytes, id as Id, true)).toEqual([])
    expect(verify(bytes, other, false)).toEqual(['packHashMismatch'])
    expect(verify(bytes, other, true)).toEqual([])
    const damaged = bytes.slice()
    damaged[entries[1]!.offset + 3]! ^= 1
    expect(verify(damaged, id as Id, true)).toEqual(['blobDamaged'])
    const header = bytes.slice()
    header[bytes.length - 10]! ^= 1
    expect(verify(header, id as Id, true)).toEqual(['packHeaderDamaged'])
  })
})

/** A memory backend whose pack files are also plain files, written up front, as a local backend's are. */
class FilesBackend extends MemoryBackend {
  constructor(private readonly folder: string) {
    super('files')
  }
  static async of(from: MemoryBackend, folder: string): Promise<FilesBackend> {
    const files = new FilesBackend(folder)
    for (const type of ['config', 'key', 'index', 'snapshot', 'pack'] as const) {
      for (const id of await from.list(type)) {
        const bytes = await from.readFull(type, id)
        await files.writeBytes(type, id, false, bytes)
        if (type === 'pack') await writeFile(join(folder, id), bytes)
      }
    }
    return files
  }
  async localPath(type: FileType, id: Id, _options?: CallOptions): Promise<string | undefined> {
    return type === 'pack' ? join(this.folder, id) : undefined
  }
}

describe('check --read-data with packs hashed before (hashedPacks)', () => {
  let f: TwoBackups
  let dir: string
  beforeAll(async () => {
    f = await twoBackups()
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-hashpacks-check-'))
  })
  afterAll(async () => {
    await f?.cleanup()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const all = (r: CheckResult): string[] => r.findings.map((x) => `${x.level} ${x.kind} ${x.message}`)

  /** `cold` as a repository of local files, and its packs as `hashPackFiles` finds them. */
  async function asFiles(cold: MemoryBackend): Promise<{ repo: Repository; hashed: Map<Id, number>; sizes: Map<Id, number> }> {
    const files = await FilesBackend.of(cold, await mkdtemp(join(dir, 'repo-')))
    const sizes = new Map(await files.listWithSize('pack'))
    const hashed = await hashPackFiles(sizes, (id) => files.localPath('pack', id), never)
    return { repo: await Repository.open({}, { repository: files }, { password: PASSWORD }), hashed, sizes }
  }

  /** The findings with the hashes, with workers and without, and without the hashes. */
  async function compare(repo: Repository, hashedPacks: Map<Id, number>): Promise<{ withHashes: string[]; alone: string[]; usual: string[] }> {
    const withHashes = all(await repo.check({ readData: true, workers: 1, hashedPacks }))
    const alone = all(await repo.check({ readData: true, workers: 0, hashedPacks }))
    const usual = all(await repo.check({ readData: true, workers: 1 }))
    expect(all(await repo.check({ readData: true, workers: 0 }))).toEqual(usual)
    return { withHashes, alone, usual }
  }

  /** A data pack of `cold` (the walk does not download it), not the largest (a worker begins that one by its header). */
  async function dataPack(cold: MemoryBackend): Promise<{ id: Id; size: number }> {
    const sizes = new Map(await cold.listWithSize('pack'))
    const id = f.lostPack
    expect(Math.max(...sizes.values())).toBeGreaterThan(sizes.get(id)!)
    return { id, size: sizes.get(id)! }
  }

  it('a sound repository: every pack hashed, the usual findings', async () => {
    const { cold } = await openCopy(f)
    const { repo, hashed, sizes } = await asFiles(cold)
    expect(hashed).toEqual(sizes)
    const { withHashes, alone, usual } = await compare(repo, hashed)
    expect(withHashes).toEqual(usual)
    expect(alone).toEqual(usual)
    expect(usual.filter((x) => x.startsWith('error'))).toEqual([])
  })

  it('a damaged blob, a damaged header, a truncated pack: not hashed; the same findings as without the hashes', async () => {
    const { cold: probe } = await openCopy(f)
    const { id, size } = await dataPack(probe)
    const damages: Array<[string, (cold: MemoryBackend) => Promise<void>, string]> = [
      ['blob', (cold) => flipByte(cold, 'pack', id, 40), 'blobDamaged'],
      ['header', (cold) => flipByte(cold, 'pack', id, size - 20), 'packHeaderDamaged'],
      ['truncated', async (cold) => cold.writeBytes('pack', id, false, (await cold.readFull('pack', id)).subarray(0, size - 100)), 'packHashMismatch'],
    ]
    for (const [what, damage, kind] of damages) {
      const { cold } = await openCopy(f)
      await damage(cold)
      const { repo, hashed, sizes } = await asFiles(cold)
      expect(hashed.has(id), what).toBe(false)
      expect(hashed.size, what).toBe(sizes.size - 1)
      const { withHashes, alone, usual } = await compare(repo, hashed)
      expect(usual.some((x) => x.includes(kind) && x.includes(id)), what).toBe(true)
      expect(withHashes, what).toEqual(usual)
      expect(alone, what).toEqual(usual)
    }
  })

  it('a pack given as hashed is not hashed again, only with the size it is listed with', async () => {
    const { cold } = await openCopy(f)
    const { id, size } = await dataPack(cold)
    await flipByte(cold, 'pack', id, 40)
    const { repo, hashed } = await asFiles(cold)
    const mismatch = (r: string[]): boolean => r.some((x) => x.includes('packHashMismatch') && x.includes(id))
    const damaged = (r: string[]): boolean => r.some((x) => x.includes('blobDamaged') && x.includes(id))
    // (a claim that does not hold, to see it taken: the hash is not computed, the blobs are still checked)
    const claimed = await compare(repo, new Map([...hashed, [id, size]]))
    expect([mismatch(claimed.withHashes), damaged(claimed.withHashes)]).toEqual([false, true])
    expect([mismatch(claimed.alone), damaged(claimed.alone)]).toEqual([false, true])
    expect([mismatch(claimed.usual), damaged(claimed.usual)]).toEqual([true, true])
    const otherSize = await compare(repo, new Map([...hashed, [id, size + 1]]))
    expect(otherSize.withHashes).toEqual(otherSize.usual)
    expect(otherSize.alone).toEqual(otherSize.usual)
  })
})
