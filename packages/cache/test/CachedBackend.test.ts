import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CountingBackend } from '@rustic-ts/backend-testkit'
import { CONFIG_ID, MemoryBackend, hashId } from '@rustic-ts/core'
import { asCacheLayer } from '@rustic-ts/core/internal'
import type { Id } from '@rustic-ts/core'
import { CachedBackend, defaultCacheBase, defaultCacheDir } from '@rustic-ts/cache'
import { CACHEDIR_TAG_NAME } from '../src/cacheDirTag.js'

let dir: string
let cacheDir: string
let memory: MemoryBackend
let inner: CountingBackend
let warnings: Array<[string, unknown]>
let cached: CachedBackend

const onWarning = (m: string, e?: unknown): void => void warnings.push([m, e])

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-cache-'))
  cacheDir = join(dir, 'cache', 'repo-id')
  memory = new MemoryBackend('m')
  inner = new CountingBackend(memory)
  warnings = []
  cached = new CachedBackend(inner, { cacheDir, onWarning })
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Writes a file to the inner backend only (as another client would). */
async function remoteFile(type: 'snapshot' | 'index' | 'key' | 'pack', size = 1000): Promise<[Id, Uint8Array]> {
  const data = randomBytes(size)
  const id = hashId(data)
  await memory.writeBytes(type, id, type !== 'pack', data)
  return [id, data]
}

describe('CachedBackend reads', () => {
  it('serves the second readFull of snapshot, index and key files from the cache', async () => {
    for (const type of ['snapshot', 'index', 'key'] as const) {
      const [id, data] = await remoteFile(type)
      inner.reset()
      expect(Buffer.from(await cached.readFull(type, id)).equals(data)).toBe(true)
      expect(inner.count('reads', type)).toBe(1)
      inner.reset()
      expect(Buffer.from(await cached.readFull(type, id)).equals(data)).toBe(true)
      expect(inner.count('reads', type), `${type} read again`).toBe(0)
      expect(await readFile(cached.cache.path(type, id))).toEqual(Buffer.from(data))
    }
    expect(warnings).toEqual([])
  })

  it('never caches config, locks, or packs read without cacheable', async () => {
    await memory.writeBytes('config', CONFIG_ID, false, Buffer.from('config bytes'))
    const lock = Buffer.from('{"lock":1}')
    await memory.writeBytes('lock', hashId(lock), false, lock)
    const [pack] = await remoteFile('pack', 5000)
    for (let i = 0; i < 2; i++) {
      await cached.readFull('config', CONFIG_ID)
      await cached.readFull('lock', hashId(lock))
      await cached.readPartial('pack', pack, false, 10, 100)
      await cached.readFull('pack', pack)
    }
    expect(inner.count('reads')).toBe(8)
    const entries = await readdir(cacheDir).catch(() => [] as string[])
    expect(entries.filter((e) => e !== CACHEDIR_TAG_NAME)).toEqual([])
  })

  it('reads a cacheable pack whole once, then serves ranges from the cache', async () => {
    const [id, data] = await remoteFile('pack', 50_000)
    const part = await cached.readPartial('pack', id, true, 100, 200)
    expect(Buffer.from(part).equals(data.subarray(100, 300))).toBe(true)
    expect(inner.count('readFull', 'pack')).toBe(1)
    expect(inner.count('readPartial', 'pack')).toBe(0)
    inner.reset()
    for (const [off, len] of [[0, 10], [49_990, 10], [1234, 30_000], [50_000, 0]] as const) {
      const got = await cached.readPartial('pack', id, true, off, len)
      expect(Buffer.from(got).equals(data.subarray(off, off + len))).toBe(true)
    }
    await expect(cached.readPartial('pack', id, true, 49_990, 11)).rejects.toThrow(/only 50000 bytes/)
    expect(inner.count('reads')).toBe(0)
    // A new instance (a new process) checks the entry again before serving ranges.
    const again = new CachedBackend(inner, { cacheDir, onWarning })
    expect(Buffer.from(await again.readPartial('pack', id, true, 5, 5)).equals(data.subarray(5, 10))).toBe(true)
    expect(inner.count('reads')).toBe(0)
    expect(warnings).toEqual([])
  })

  it('detects a corrupt entry, warns, deletes and refetches it', async () => {
    const [id, data] = await remoteFile('snapshot')
    await cached.readFull('snapshot', id)
    const path = cached.cache.path('snapshot', id)
    const bad = Buffer.from(data)
    bad[17] ^= 0xff
    await writeFile(path, bad)
    inner.reset()
    expect(Buffer.from(await cached.readFull('snapshot', id)).equals(data)).toBe(true)
    expect(inner.count('readFull', 'snapshot')).toBe(1)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]![0]).toMatch(new RegExp(`snapshot ${id}.*corrupt`))
    expect(await readFile(path)).toEqual(Buffer.from(data)) // repaired
    inner.reset()
    await cached.readFull('snapshot', id)
    expect(inner.count('reads')).toBe(0)
  })

  it('detects a truncated pack entry on ranged reads in a new process', async () => {
    const [id, data] = await remoteFile('pack', 10_000)
    await cached.readPartial('pack', id, true, 0, 10)
    await writeFile(cached.cache.path('pack', id), data.subarray(0, 5000))
    const fresh = new CachedBackend(inner, { cacheDir, onWarning })
    inner.reset()
    expect(Buffer.from(await fresh.readPartial('pack', id, true, 9000, 1000)).equals(data.subarray(9000))).toBe(true)
    expect(inner.count('readFull', 'pack')).toBe(1)
    expect(warnings.map(([m]) => m).join()).toMatch(/corrupt/)
  })

  it('does not cache data whose hash does not match its id', async () => {
    const id = hashId(Buffer.from('something else'))
    await memory.writeBytes('index', id, true, Buffer.from('unexpected content'))
    await cached.readFull('index', id)
    await cached.readFull('index', id)
    expect(inner.count('readFull', 'index')).toBe(2)
    expect(warnings[0]![0]).toMatch(/not caching index/)
  })
})

describe('CachedBackend writes, removes and lists', () => {
  it('writes cacheable files to both, others only to the inner backend', async () => {
    const snap = randomBytes(300)
    const treePack = randomBytes(3000)
    const dataPack = randomBytes(3000)
    await cached.writeBytes('snapshot', hashId(snap), true, snap)
    await cached.writeBytes('pack', hashId(treePack), true, treePack)
    await cached.writeBytes('pack', hashId(dataPack), false, dataPack)
    await cached.writeBytes('config', CONFIG_ID, false, Buffer.from('cfg'))
    expect(await memory.list('pack')).toHaveLength(2)
    inner.reset()
    await cached.readFull('snapshot', hashId(snap))
    await cached.readPartial('pack', hashId(treePack), true, 0, 3000)
    expect(inner.count('reads')).toBe(0)
    await cached.readPartial('pack', hashId(dataPack), false, 0, 10)
    expect(inner.count('reads')).toBe(1)
    await expect(stat(cached.cache.path('pack', hashId(dataPack)))).rejects.toThrow(/ENOENT/)
    await expect(readdir(join(cacheDir, 'config'))).rejects.toThrow(/ENOENT/)

    await cached.remove('snapshot', hashId(snap), true)
    await cached.remove('pack', hashId(treePack), false)
    await expect(stat(cached.cache.path('snapshot', hashId(snap)))).rejects.toThrow(/ENOENT/)
    await expect(stat(cached.cache.path('pack', hashId(treePack)))).rejects.toThrow(/ENOENT/)
    expect(await memory.list('snapshot')).toEqual([])
  })

  it('list and listWithSize drop entries that are gone or differ remotely', async () => {
    const files = await Promise.all([remoteFile('index'), remoteFile('index'), remoteFile('index')])
    for (const [id] of files) await cached.readFull('index', id)
    const [gone, changed, kept] = files.map(([id]) => id) as [Id, Id, Id]
    await memory.remove('index', gone, true)
    expect((await cached.list('index')).sort()).toEqual([changed, kept].sort())
    await expect(stat(cached.cache.path('index', gone))).rejects.toThrow(/ENOENT/)
    // An entry whose size differs from the listed size is dropped by listWithSize.
    await writeFile(cached.cache.path('index', changed), 'short')
    await cached.listWithSize('index')
    await expect(stat(cached.cache.path('index', changed))).rejects.toThrow(/ENOENT/)
    expect((await stat(cached.cache.path('index', kept))).size).toBe(1000)
    expect(warnings).toEqual([])
  })
})

describe('CachedBackend cache directory', () => {
  it('has a CACHEDIR.TAG, 0700 directories and 0600 files', async () => {
    const [id] = await remoteFile('snapshot')
    await cached.readFull('snapshot', id)
    const tag = await readFile(join(cacheDir, CACHEDIR_TAG_NAME), 'utf8')
    expect(tag.startsWith('Signature: 8a477f597d28d172789f06886806bc55')).toBe(true)
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700)
    expect((await stat(join(cacheDir, 'snapshots', id.slice(0, 2)))).mode & 0o777).toBe(0o700)
    expect((await stat(cached.cache.path('snapshot', id))).mode & 0o777).toBe(0o600)
    expect(await readdir(join(cacheDir, 'snapshots', id.slice(0, 2)))).toEqual([id]) // no temp files left
  })

  it('falls back to the inner backend with warnings when the cache directory cannot be made', async () => {
    await writeFile(join(dir, 'plainfile'), 'x')
    const be = new CachedBackend(inner, { cacheDir: join(dir, 'plainfile', 'cache'), onWarning })
    const [id, data] = await remoteFile('snapshot')
    for (let i = 0; i < 3; i++) expect(Buffer.from(await be.readFull('snapshot', id)).equals(data)).toBe(true)
    expect(inner.count('readFull', 'snapshot')).toBe(3)
    await be.writeBytes('index', hashId(data), true, data)
    expect(await be.list('index')).toEqual([hashId(data)])
    expect(warnings).toHaveLength(1) // reported once, then the cache stays off
    expect(warnings[0]![0]).toMatch(/unusable/)
    expect((warnings[0]![1] as NodeJS.ErrnoException).code).toBe('ENOTDIR')
  })

  it('warns on every failed cache write and still serves reads', async () => {
    await mkdir(cacheDir, { recursive: true })
    await writeFile(join(cacheDir, 'snapshots'), 'blocks the snapshots directory')
    const [id, data] = await remoteFile('snapshot')
    expect(Buffer.from(await cached.readFull('snapshot', id)).equals(data)).toBe(true)
    expect(Buffer.from(await cached.readFull('snapshot', id)).equals(data)).toBe(true)
    expect(inner.count('readFull', 'snapshot')).toBe(2)
    expect(warnings.length).toBeGreaterThanOrEqual(2)
    expect(warnings.some(([m]) => /cannot write snapshot/.test(m))).toBe(true)
  })

  it.skipIf(process.getuid?.() === 0)('works read-only when the directory is not writable (EACCES)', async () => {
    const [id, data] = await remoteFile('snapshot')
    await cached.readFull('snapshot', id)
    const [id2, data2] = await remoteFile('snapshot')
    await chmod(join(cacheDir, 'snapshots', id2.slice(0, 2)), 0o500).catch(() => {})
    await chmod(join(cacheDir, 'snapshots'), 0o500)
    try {
      const be = new CachedBackend(inner, { cacheDir, onWarning })
      inner.reset()
      expect(Buffer.from(await be.readFull('snapshot', id)).equals(data)).toBe(true)
      expect(Buffer.from(await be.readFull('snapshot', id2)).equals(data2)).toBe(true)
      expect(inner.count('reads')).toBe(1)
      expect(warnings.some(([, e]) => (e as NodeJS.ErrnoException)?.code === 'EACCES')).toBe(true)
    } finally {
      await chmod(join(cacheDir, 'snapshots'), 0o700)
      await chmod(join(cacheDir, 'snapshots', id2.slice(0, 2)), 0o700).catch(() => {})
    }
  })
})

describe('CachedBackend as a CacheLayer (what check reads and repairs)', () => {
  it('is recognised as one and lists, reads, replaces and removes cached copies', async () => {
    expect(asCacheLayer(cached)).toBe(cached)
    expect(asCacheLayer(memory)).toBeUndefined()
    const [id, data] = await remoteFile('snapshot')
    await cached.readFull('snapshot', id)
    expect(await cached.listCached('snapshot')).toEqual(new Map([[id, data.length]]))
    expect(cached.cacheLocation()).toBe(cacheDir)
    const path = join(cacheDir, 'snapshots', id.slice(0, 2), id)
    const bad = Buffer.from(data)
    bad[3]! ^= 1
    await writeFile(path, bad)
    expect(Buffer.from((await cached.readCached('snapshot', id))!).equals(bad)).toBe(true)
    await expect(cached.writeCached('snapshot', id, bad)).rejects.toMatchObject({ code: 'IntegrityError' })
    await cached.writeCached('snapshot', id, data)
    expect((await readFile(path)).equals(data)).toBe(true)
    await cached.removeCached('snapshot', id)
    expect(await cached.readCached('snapshot', id)).toBeUndefined()
    expect(await cached.listCached('lock')).toEqual(new Map())
  })
})

describe('defaultCacheDir', () => {
  it('uses XDG_CACHE_HOME when absolute, else ~/.cache', () => {
    expect(defaultCacheBase({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/rustic-ts')
    expect(defaultCacheBase({ XDG_CACHE_HOME: 'relative' })).toMatch(/\/\.cache\/rustic-ts$/)
    expect(defaultCacheBase({})).toMatch(/\/\.cache\/rustic-ts$/)
    const id = 'a'.repeat(64)
    expect(defaultCacheDir(id, '/base')).toBe(`/base/${id}`)
    expect(defaultCacheDir(id)).toBe(join(defaultCacheBase(), id))
    expect(() => defaultCacheDir('../etc')).toThrow(/invalid repository id/)
  })
})
