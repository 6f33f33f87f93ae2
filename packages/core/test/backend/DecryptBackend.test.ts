import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  DecryptBackend,
  Key,
  MemoryBackend,
  pureJsZstd,
  Repository,
  setZstdProvider,
  StreamSource,
  zstdProvider,
  type Id,
} from '@rustic-ts/core/internal'
import { rejection } from '../error/thrown.js'

const json = new TextEncoder().encode(JSON.stringify({ paths: ['/x'], hostname: 'h'.repeat(2000) }))
const text = new TextEncoder().encode('compressible text, line after line\n'.repeat(20_000))

describe('DecryptBackend compression', () => {
  const initial = zstdProvider()
  afterEach(() => setZstdProvider(initial))

  it('compresses blobs and unpacked files of a v2 repository where a compressor loads', async () => {
    const dbe = new DecryptBackend(new MemoryBackend(), Key.random(), 2, 3)
    const { sealed, uncompressedLength } = dbe.sealBlob(text)
    expect(uncompressedLength).toBe(text.length)
    expect(sealed.length).toBeLessThan(text.length / 20)
    const id = await dbe.saveFile('snapshot', json)
    expect(dbe.key.decrypt(await dbe.backend.readFull('snapshot', id), 'x')[0]).toBe(0x02)
  })

  it('seals an unpacked file larger than a cipher piece in the buffer it was compressed into: IV, 0x02, frame, MAC', async () => {
    // ~8 MB of index-like JSON whose frame (~2 MB) spans several 1 MiB pieces of the cipher, encrypted in place
    const ids = Array.from({ length: 60_000 }, () => `{"id":"${randomBytes(32).toString('hex')}","type":"data","offset":0,"length":1}`)
    const big = new TextEncoder().encode(`{"packs":[{"id":"${'0'.repeat(64)}","blobs":[${ids.join(',')}]}]}\n`)
    const custom = { name: 'custom', compress: (d: Uint8Array, l: number) => initial.compress(d, l), decompress: (d: Uint8Array, n?: number) => initial.decompress(d, n) }
    for (const provider of [initial, custom]) {
      setZstdProvider(provider) // a provider of the caller's: compressed by it, then copied (no buffers of its own)
      const dbe = new DecryptBackend(new MemoryBackend(), Key.random(), 2, 3)
      const id = await dbe.saveFile('index', big)
      const stored = await dbe.backend.readFull('index', id)
      const plain = dbe.key.decrypt(stored, 'index')
      expect(plain[0]).toBe(0x02)
      expect(plain.length).toBeGreaterThan(1 << 21) // three pieces
      expect(stored.length).toBe(plain.length + 32)
      expect(Buffer.from(await dbe.readEncryptedFull('index', id)).equals(big)).toBe(true)
    }
  })

  describe('where no zstd compressor loads', () => {
    it('compression auto: writes uncompressed and warns once per handler', async () => {
      setZstdProvider(pureJsZstd)
      const warnings: string[] = []
      const dbe = new DecryptBackend(new MemoryBackend(), Key.random(), 2, 3, { compressionAuto: true, onWarning: (m) => warnings.push(m) })
      const { sealed, uncompressedLength } = dbe.sealBlob(text)
      expect(uncompressedLength).toBeUndefined()
      expect(Buffer.from(dbe.openBlob(sealed, undefined, 'blob')).equals(text)).toBe(true)
      const id = await dbe.saveFile('snapshot', json)
      const plain = dbe.key.decrypt(await dbe.backend.readFull('snapshot', id), 'x')
      expect(Buffer.from(plain).equals(json)).toBe(true) // plain JSON, which v2 allows
      expect(Buffer.from(await dbe.readEncryptedFull('snapshot', id)).equals(json)).toBe(true)
      dbe.sealBlob(text)
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/^writing without compression: no zstd compressor loads here \(node:zlib: /)
    })

    it('a chosen level: fails with CompressionUnavailable naming the repository, writes nothing', async () => {
      setZstdProvider(pureJsZstd)
      const backend = new MemoryBackend('repo')
      const dbe = new DecryptBackend(backend, Key.random(), 2, 19)
      const err = await rejection(() => dbe.sealBlob(text))
      expect(err.code).toBe('CompressionUnavailable')
      expect(err.message).toMatch(/^cannot write compressed data \(zstd level 19\) to memory:repo: no zstd compressor loads here/)
      expect(err.message).toMatch(/or set compression to off$/)
      expect((await rejection(dbe.saveFile('index', json))).code).toBe('CompressionUnavailable')
      expect(await backend.list('index')).toEqual([])
    })

    it('compression off and version 1: no compression, no warning, no error', async () => {
      setZstdProvider(pureJsZstd)
      const warnings: string[] = []
      for (const dbe of [
        new DecryptBackend(new MemoryBackend(), Key.random(), 2, undefined, { onWarning: (m) => warnings.push(m) }),
        new DecryptBackend(new MemoryBackend(), Key.random(), 1, 3, { onWarning: (m) => warnings.push(m) }),
      ]) {
        expect(dbe.sealBlob(text).uncompressedLength).toBeUndefined()
        const id = await dbe.saveFile('snapshot', json)
        expect(Buffer.from(await dbe.readEncryptedFull('snapshot', id)).equals(json)).toBe(true)
      }
      expect(warnings).toEqual([])
    })

    it('a backup with the default compression warns once and stores the data uncompressed; with max it fails', async () => {
      const backend = new MemoryBackend()
      const warnings: string[] = []
      const repo = await Repository.init({ onWarning: (m) => warnings.push(m) }, { repository: backend }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
      setZstdProvider(pureJsZstd)
      const source = () =>
        new StreamSource(async function* () {
          yield text
        }, 'notes.txt')
      const indexed = await repo.toIndexed()
      const err = await rejection(indexed.backup(source(), { compression: 'max', snapshotPaths: ['/notes.txt'] }))
      expect(err.code).toBe('CompressionUnavailable')
      const { snapshot } = await indexed.backup(source(), { snapshotPaths: ['/notes.txt'] })
      expect(warnings.filter((w) => w.startsWith('writing without compression'))).toHaveLength(1)
      expect(snapshot.summary!.dataAdded).toBeGreaterThanOrEqual(text.length)

      setZstdProvider(initial)
      const reopened = await (await Repository.open({}, { repository: backend }, { password: 'pw' })).toIndexed()
      const { node } = await reopened.resolveSnapshotPath(`${snapshot.id}:/notes.txt`)
      const parts: Uint8Array[] = []
      for await (const c of reopened.readFile(node)) parts.push(c)
      expect(Buffer.concat(parts).equals(text)).toBe(true)
      // and with a compressor back, the same backup compresses
      const packBytes = async () => (await backend.listWithSize('pack')).reduce((n, [, size]) => n + size, 0)
      const before = await packBytes()
      expect(before).toBeGreaterThan(text.length)
      const other = (async function* () {
        yield randomBytes(10).toString('hex')
        yield text
      })()
      await reopened.backup(new StreamSource(other, 'other.txt'), { snapshotPaths: ['/other.txt'] })
      expect((await packBytes()) - before).toBeLessThan(text.length / 10)
    })
  })
})

describe('DecryptBackend.streamAll', () => {
  it('reads at most `concurrency` files ahead of its consumer, in the order of the ids; onError skips a bad file', async () => {
    let started = 0
    class CountingBackend extends MemoryBackend {
      override readFull(...args: Parameters<MemoryBackend['readFull']>): ReturnType<MemoryBackend['readFull']> {
        started++
        return super.readFull(...args)
      }
    }
    const dbe = new DecryptBackend(new CountingBackend(), Key.random(), 2, 3)
    const ids: Id[] = []
    for (let i = 0; i < 12; i++) ids.push(await dbe.saveFile('snapshot', new TextEncoder().encode(`{"n":${i}}`)))
    const bad = ids[5]!
    await dbe.backend.writeBytes('snapshot', bad, true, new Uint8Array(64))
    const seen: number[] = []
    const errors: string[] = []
    const parse = (plain: Uint8Array): number => (JSON.parse(new TextDecoder().decode(plain)) as { n: number }).n
    for await (const n of dbe.streamAll('snapshot', parse, { ids, concurrency: 3, onError: (id) => errors.push(id) })) {
      seen.push(n)
      expect(started).toBeLessThanOrEqual(seen.length + errors.length + 3)
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11])
    expect(errors).toEqual([bad])
    expect(started).toBe(12)
    await expect(rejection(async () => {
      for await (const _ of dbe.streamAll('snapshot', parse, { ids })) void _
    })).resolves.toMatchObject({ code: 'IntegrityError' })
  })
})
