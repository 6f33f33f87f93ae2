import { randomBytes } from 'node:crypto'
import { cp, mkdir, readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { hashId, Repository, type CheckResult, type Id } from '@rustic-ts/core'
import { serializePackHeader } from '@rustic-ts/core/internal'
import { resticInit, rusticInit } from '../helpers/cheapKey.js'
import { fileHashes, makeDataset } from '../helpers/dataset.js'
import { PASSWORD, restic, rustic, rusticOk, run, tempDir } from '../helpers/restic.js'
import { flipByte } from '../helpers/flipByte.js'

/**
 * Acceptance of check and repair against restic 0.14: a restic-made and a rustic-ts-made repository,
 * each with two snapshots (the second adds `lost/`, whose data is in a pack of its own), are copied and
 * damaged in one way each; `rustic-ts check --read-data` must report exactly that damage and restic must
 * agree on which copies are broken. Then repairs, judged by `restic check --read-data` and restores.
 */

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string

interface Fixture {
  repo: string
  /** The data pack of `lost/` (only the second snapshot uses it). */
  lostPack: Id
  /** Index files written by the first backup. */
  firstIndex: string[]
  snapshots: string[]
}
const fixtures: Record<'restic' | 'rustic-ts', Fixture> = {} as never

const ls = async (dir: string): Promise<string[]> => (await readdir(dir)).sort()
const packPath = (repo: string, id: string): string => join(repo, 'data', id.slice(0, 2), id)
async function packs(repo: string): Promise<string[]> {
  const out: string[] = []
  for (const sub of await ls(join(repo, 'data'))) out.push(...(await ls(join(repo, 'data', sub))))
  return out
}

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-check-')
  src = join(tmp.path, 'src')
  await makeDataset(src, { bigFileMiB: 1 })
  // both tools back up the same tree twice: first without lost/, then with it
  const resticRepo = join(tmp.path, 'fixture-restic')
  await resticInit(resticRepo) // a cheap key: every run opens the repositories
  await restic(resticRepo, ['backup', src])
  const rusticRepo = join(tmp.path, 'fixture-rustic-ts')
  await rusticInit(rusticRepo)
  await rusticOk(['-r', rusticRepo, '--no-cache', 'backup', src])
  const first = { restic: await ls(join(resticRepo, 'index')), rustic: await ls(join(rusticRepo, 'index')) }
  const before = { restic: new Set(await packs(resticRepo)), rustic: new Set(await packs(rusticRepo)) }
  await mkdir(join(src, 'lost'))
  await writeFile(join(src, 'lost', 'big2.bin'), randomBytes(1200 * 1024))
  await writeFile(join(src, 'lost', 'note.txt'), 'this one goes missing\n')
  await restic(resticRepo, ['backup', src])
  await rusticOk(['-r', rusticRepo, '--no-cache', 'backup', src])
  const largestNew = async (repo: string, old: Set<string>): Promise<Id> => {
    let best = { id: '', size: -1 }
    for (const id of await packs(repo)) {
      const { size } = await stat(packPath(repo, id))
      if (!old.has(id) && size > best.size) best = { id, size }
    }
    return best.id as Id
  }
  fixtures.restic = { repo: resticRepo, lostPack: await largestNew(resticRepo, before.restic), firstIndex: first.restic, snapshots: await ls(join(resticRepo, 'snapshots')) }
  fixtures['rustic-ts'] = {
    repo: rusticRepo,
    lostPack: await largestNew(rusticRepo, before.rustic),
    firstIndex: first.rustic,
    snapshots: await ls(join(rusticRepo, 'snapshots')),
  }
}, 300_000)
afterAll(async () => tmp?.remove())

let copies = 0
async function copyOf(f: Fixture): Promise<string> {
  const dir = join(tmp.path, `copy-${copies++}`)
  await cp(f.repo, dir, { recursive: true })
  return dir
}

async function openLib(repo: string): Promise<Repository> {
  return Repository.open({}, { repository: new LocalBackend(repo) }, { password: PASSWORD })
}

/** rustic-ts check --read-data --json on a repository: exit code and result. */
async function rusticCheck(repo: string, args: string[] = ['--read-data']): Promise<{ code: number; result: CheckResult }> {
  const r = await rustic(['-r', repo, '--no-cache', '--json', 'check', ...args])
  return { code: r.code, result: JSON.parse(r.stdout.toString()) as CheckResult }
}

/** restic check's exit code. */
async function resticCheck(repo: string, readData: boolean): Promise<number> {
  return (await run('restic', ['-r', repo, '--no-cache', 'check', ...(readData ? ['--read-data'] : [])], { RESTIC_PASSWORD: PASSWORD })).code
}

/** A pack no index names: one random blob sealed with the repository's key. */
async function addUnreferencedPack(repo: string): Promise<Id> {
  const lib = await openLib(repo)
  const plain = randomBytes(5000)
  const sealed = lib.key.encrypt(plain)
  const header = lib.key.encrypt(serializePackHeader([{ type: 'data', id: hashId(plain), offset: 0, length: sealed.length }]))
  const len = Buffer.alloc(4)
  len.writeUInt32LE(header.length)
  const pack = Buffer.concat([sealed, header, len])
  const id = hashId(pack)
  await mkdir(join(repo, 'data', id.slice(0, 2)), { recursive: true })
  await writeFile(packPath(repo, id), pack)
  return id
}

/** A new snapshot like the first one, but whose tree does not exist. */
async function addSnapshotWithMissingTree(repo: string, f: Fixture): Promise<{ snapshot: Id; tree: Id }> {
  const lib = await openLib(repo)
  const snap = await lib.getSnapshot(f.snapshots[0] as Id)
  const tree = hashId(randomBytes(32))
  const copy = { ...snap, tree }
  delete copy.id
  return { snapshot: await lib.saveSnapshot(copy), tree }
}

interface Damage {
  name: string
  /** Damages the copy; returns what the findings must be about. */
  apply: (repo: string, f: Fixture) => Promise<{ kinds: string[]; about: string }>
  /** True if the copy is still sound (only notes). */
  sound?: boolean
  /** restic 0.14 retries a missing or short pack for ~50 s under --read-data: its plain check sees this damage already. */
  resticWithoutReadData?: boolean
}

const damages: Damage[] = [
  {
    name: 'a pack deleted',
    resticWithoutReadData: true,
    apply: async (repo, f) => {
      await unlink(packPath(repo, f.lostPack))
      return { kinds: ['packMissing'], about: f.lostPack }
    },
  },
  {
    name: 'an index file deleted',
    apply: async (repo, f) => {
      for (const id of f.firstIndex) await unlink(join(repo, 'index', id))
      // the second snapshot's new trees still load, and name files whose blobs were in the first index
      return { kinds: ['fileBlobMissing', 'packUnreferenced', 'treeMissing'], about: '' }
    },
  },
  {
    name: 'a byte flipped inside a pack',
    apply: async (repo, f) => {
      await flipByte(packPath(repo, f.lostPack), 200)
      return { kinds: ['blobDamaged', 'packHashMismatch'], about: f.lostPack }
    },
  },
  {
    name: 'a pack truncated',
    resticWithoutReadData: true,
    apply: async (repo, f) => {
      await truncate(packPath(repo, f.lostPack), 100_000)
      return { kinds: ['packHashMismatch', 'packHeaderDamaged', 'packSizeMismatch'], about: f.lostPack }
    },
  },
  {
    name: 'an unreferenced pack added',
    sound: true,
    apply: async (repo) => ({ kinds: ['packUnreferenced'], about: await addUnreferencedPack(repo) }),
  },
  {
    name: 'a snapshot pointing at a missing tree',
    apply: async (repo, f) => ({ kinds: ['treeMissing'], about: (await addSnapshotWithMissingTree(repo, f)).tree }),
  },
  {
    name: 'a byte flipped in a snapshot file',
    apply: async (repo, f) => {
      await flipByte(join(repo, 'snapshots', f.snapshots[0]!), 40)
      return { kinds: ['snapshotDamaged'], about: f.snapshots[0]! }
    },
  },
]

describe.each(['restic', 'rustic-ts'] as const)('check on a %s-made repository', (tool) => {
  it('finds nothing in the healthy repository; restic agrees', async () => {
    const { code, result } = await rusticCheck(fixtures[tool].repo)
    expect(result.findings).toEqual([])
    expect(code).toBe(0)
    expect(result.packsRead).toBe(result.packs)
    expect(await resticCheck(fixtures[tool].repo, true)).toBe(0)
  })

  it.concurrent.each(damages)('$name: reported exactly, and restic agrees on whether it is broken', async (d) => {
    const f = fixtures[tool]
    const repo = await copyOf(f)
    const want = await d.apply(repo, f)
    const { code, result } = await rusticCheck(repo)
    expect([...new Set(result.findings.map((x) => x.kind))].sort()).toEqual(want.kinds)
    if (want.about) {
      for (const x of result.findings) expect([x.file?.id, x.blob?.id], x.message).toContain(want.about)
    }
    expect(code).toBe(d.sound ? 0 : 1)
    expect(result.summary.errors === 0).toBe(d.sound ?? false)
    expect(await resticCheck(repo, !d.resticWithoutReadData)).toBe(d.sound ? 0 : 1)
  })
})

describe('check output', () => {
  it('prints one line per finding in restic words, a summary, and exits 1', async () => {
    const repo = await copyOf(fixtures.restic)
    await unlink(packPath(repo, fixtures.restic.lostPack))
    const r = await rustic(['-r', repo, '--no-cache', '--no-progress', 'check'])
    expect(r.code).toBe(1)
    expect(r.stdout.toString()).toMatch(new RegExp(`^error: pack ${fixtures.restic.lostPack}: does not exist\nchecked 2 snapshots, \\d+ trees, \\d+ packs\n1 errors\n$`))
    expect(r.stderr).toContain('repository contains errors')
  })
})

/** restic restore of the latest snapshot: file hashes relative to the source. */
async function resticRestore(repo: string, name: string): Promise<Map<string, string>> {
  const target = join(tmp.path, `restore-${name}`)
  await restic(repo, ['restore', 'latest', '--target', target])
  return fileHashes(join(target, src))
}

describe.each(['restic', 'rustic-ts'] as const)('repair on a %s-made repository', (tool) => {
  it('repair index after an index file was deleted: restic check --read-data accepts it and every file restores', async () => {
    const f = fixtures[tool]
    const repo = await copyOf(f)
    for (const id of f.firstIndex) await unlink(join(repo, 'index', id))
    const out = (await rusticOk(['-r', repo, '--no-cache', 'repair', 'index'])).toString()
    expect(out).toMatch(/^adding pack file to index [0-9a-f]{64}$/m)
    expect(await resticCheck(repo, true)).toBe(0)
    expect((await rusticCheck(repo)).result.summary.errors).toBe(0)
    const want = await fileHashes(src)
    expect(await resticRestore(repo, `${tool}-index`)).toEqual(want)
  })

  it('repair index and repair snapshots --forget after a pack was deleted: restic accepts it, untouched files restore', async () => {
    const f = fixtures[tool]
    const repo = await copyOf(f)
    await unlink(packPath(repo, f.lostPack))
    expect((await rusticOk(['-r', repo, '--no-cache', 'repair', 'index'])).toString()).toContain(`removing not found pack file ${f.lostPack}`)
    const dry = (await rusticOk(['-r', repo, '--no-cache', 'repair', 'snapshots', '--forget', '--dry-run'])).toString()
    expect(dry).toContain('would modify 1 snapshots')
    expect(await ls(join(repo, 'snapshots'))).toEqual(f.snapshots)
    const out = (await rusticOk(['-r', repo, '--no-cache', 'repair', 'snapshots', '--forget'])).toString()
    expect(out).toContain(`file "${src}/lost/big2.bin": removed missing content`)
    expect(out).toContain('modified 1 snapshots')
    expect(await resticCheck(repo, true)).toBe(0)
    const want = await fileHashes(src)
    const got = await resticRestore(repo, `${tool}-pack`)
    const empty = hashId(new Uint8Array(0))
    for (const [p, h] of want) expect(got.get(p), p).toBe(p.startsWith('lost/') ? empty : h)
    expect(got.size).toBe(want.size)
    const snaps = JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Array<{ tags?: string[]; original?: string }>
    expect(snaps.filter((s) => s.tags?.includes('repaired')).map((s) => s.original)).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)])
  })
})

describe('check and the cache', () => {
  const cached = async (cacheDir: string, type: string): Promise<string> => {
    const [repoId] = await readdir(cacheDir)
    const dir = join(cacheDir, repoId!, type)
    const [sub] = await readdir(dir)
    const [name] = await readdir(join(dir, sub!))
    return join(dir, sub!, name!)
  }

  it('a flipped byte in a cached snapshot or index file is reported and repaired in the cache', async () => {
    const repo = await copyOf(fixtures['rustic-ts'])
    const cacheDir = join(tmp.path, 'cache-1')
    await rusticOk(['-r', repo, '--cache-dir', cacheDir, 'ls', fixtures['rustic-ts'].snapshots[0]!])
    const files = [await cached(cacheDir, 'snapshots'), await cached(cacheDir, 'index')]
    for (const file of files) await flipByte(file, 30)
    const r = await rustic(['-r', repo, '--cache-dir', cacheDir, '--json', 'check'])
    const result = JSON.parse(r.stdout.toString()) as CheckResult
    expect(result.findings.map((x) => [x.level, x.kind, x.file?.type]).sort()).toEqual([
      ['warning', 'cacheDamaged', 'index'],
      ['warning', 'cacheDamaged', 'snapshot'],
    ])
    expect(r.code).toBe(0)
    for (const file of files) expect(hashId(await readFile(file))).toBe(file.split('/').pop())
  })

  it('a flipped byte in the repository copy is reported even when the cache holds a good copy', async () => {
    const repo = await copyOf(fixtures['rustic-ts'])
    const cacheDir = join(tmp.path, 'cache-2')
    const snap = fixtures['rustic-ts'].snapshots[0]!
    await rusticOk(['-r', repo, '--cache-dir', cacheDir, 'ls', snap])
    await flipByte(join(repo, 'snapshots', snap), 30)
    const r = await rustic(['-r', repo, '--cache-dir', cacheDir, '--json', 'check'])
    const result = JSON.parse(r.stdout.toString()) as CheckResult
    expect(result.findings.map((x) => [x.kind, x.file?.id])).toEqual([['snapshotDamaged', snap]])
    expect(r.code).toBe(1)
  })
})

describe('list', () => {
  it('agrees with restic list for blobs, packs, index, snapshots, keys and locks', async () => {
    const repo = fixtures.restic.repo
    const lines = (b: Buffer): string[] => b.toString().split('\n').filter(Boolean).sort()
    // one at a time: restic locks the repository while it lists, and `list locks` would see those locks
    for (const kind of ['blobs', 'packs', 'index', 'snapshots', 'keys', 'locks']) {
      const ours = await rusticOk(['-r', repo, '--no-cache', 'list', kind])
      expect(lines(ours), kind).toEqual(lines(await restic(repo, ['list', kind])))
    }
    expect((await rustic(['-r', repo, '--no-cache', 'list', 'trees'])).stderr).toMatch(/invalid type "trees"/)
  })
})
