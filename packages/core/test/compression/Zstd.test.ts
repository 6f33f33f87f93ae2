import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  compress,
  compressionLevel,
  CompressionModeSchema,
  decompress,
  frameContentSize,
  nativeZstd,
  nodeZlibZstd,
  prebuiltZstd,
  pureJsZstd,
  setZstdProvider,
  zstdCompressorUnavailable,
  zstdProvider,
  zstdProviders,
  zstdStoredFrame,
} from '@rustic-ts/core/internal'
import { thrown } from '../error/thrown.js'

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)

const text = new TextEncoder().encode('{"nodes":[{"name":"a.txt","type":"file"}]}\n'.repeat(2000))
const samples = [new Uint8Array(0), new Uint8Array([42]), text, randomBytes(300_000), new Uint8Array(1 << 20)]

/** Node's own zstd is there from 22.15 (and 23.8). */
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]
const nodeHasZstd = (major === 22 && minor >= 15) || (major === 23 && minor >= 8) || major >= 24

describe('compression modes', () => {
  it('maps modes to zstd levels like restic (auto = 3) and rustic (0 = off)', () => {
    expect(compressionLevel('off')).toBeUndefined()
    expect(compressionLevel('auto')).toBe(3)
    expect(compressionLevel('max')).toBe(19)
    expect(compressionLevel(7)).toBe(7)
    expect(compressionLevel(-5)).toBe(-5)
    expect(compressionLevel(0)).toBeUndefined()
    expect(thrown(() => compressionLevel(23)).kind).toBe('InvalidInput')
    expect(thrown(() => compressionLevel('fast' as never)).kind).toBe('InvalidInput')
    expect(CompressionModeSchema.parse(undefined)).toBe('auto')
    expect(CompressionModeSchema.safeParse(2.5).success).toBe(false)
  })
})

describe('zstd providers', () => {
  const all = zstdProviders()
  const compressors = all.filter((p) => p.compresses !== false)
  const initial = zstdProvider()
  afterEach(() => setZstdProvider(initial))

  it('uses Node\'s own zstd where Node has it, else the first native one that loads; the prebuilt one loads here', () => {
    expect(all.at(-1)).toBe(pureJsZstd)
    expect(nodeZlibZstd() !== undefined).toBe(nodeHasZstd)
    // this machine has every native candidate: zstd-napi (built at install) and the prebuilt package
    expect(nativeZstd()?.name).toBe('zstd-napi')
    expect(prebuiltZstd()?.name).toBe('@toondepauw/node-zstd')
    expect(compressors.map((p) => p.name)).toEqual([...(nodeHasZstd ? ['node:zlib'] : []), 'zstd-napi', '@toondepauw/node-zstd'])
    expect(initial).toBe(compressors[0])
    expect(zstdCompressorUnavailable()).toBeUndefined()
  })

  for (const p of zstdProviders().filter((q) => q.compresses !== false)) {
    it(`${p.name}: round-trips at every level, frames without checksum that every provider reads`, () => {
      setZstdProvider(p)
      for (const level of [-3, 1, 3, 19]) {
        for (const s of samples) {
          const z = compress(s, level)
          expect([...z.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd])
          expect(z[4]! & 0x04).toBe(0) // Content_Checksum_flag
          expect(z.constructor, 'a plain Uint8Array, not a Buffer').toBe(Uint8Array)
          const size = frameContentSize(z)
          if (size !== undefined) expect(size).toBe(s.length)
          for (const reader of all) {
            const out = reader.decompress(z, s.length)
            expect(same(out, s), `${reader.name} reads ${p.name} level ${level}`).toBe(true)
            expect(out.constructor, `${reader.name} gives a plain Uint8Array`).toBe(Uint8Array)
            expect(same(reader.decompress(z), s), `${reader.name} reads ${p.name} level ${level}`).toBe(true)
          }
          expect(same(decompress(z, 'blob', s.length), s)).toBe(true)
        }
      }
      expect(compress(text, 19).length).toBeLessThan(compress(text, 1).length + 1)
      expect(compress(text, 3).length).toBeLessThan(text.length / 20)
    })

    it(`${p.name}: bad data, wrong lengths and frames claiming more than expected are DecodeErrors naming the object`, () => {
      setZstdProvider(p)
      const z = compress(text, 3)
      for (const [data, expected] of [
        [randomBytes(50), undefined],
        [z.subarray(0, z.length - 5), undefined],
        [z, text.length - 1],
        [z, text.length + 1],
      ] as const) {
        const err = thrown(() => decompress(data, 'data blob 1a2b3c4d in pack 5e6f7a8b', expected))
        expect(err.kind).toBe('Repository')
        expect(err.code).toBe('DecodeError')
        expect(err.message).toContain('data blob 1a2b3c4d in pack 5e6f7a8b')
      }
      // A stored frame that claims 4 GiB of content but holds 10 bytes.
      const frame = zstdStoredFrame(new Uint8Array(10))
      new DataView(frame.buffer).setBigUint64(5, 2n ** 32n, true)
      expect(thrown(() => decompress(frame, 'blob', 10)).code).toBe('DecodeError')
    })
  }

  it('every provider reads stored (raw-block) frames', () => {
    for (const s of samples) {
      const stored = zstdStoredFrame(s)
      expect(stored.length).toBe(13 + 3 * Math.max(1, Math.ceil(s.length / 131072)) + s.length)
      expect(frameContentSize(stored)).toBe(s.length)
      for (const reader of all) expect(same(reader.decompress(stored), s), reader.name).toBe(true)
    }
  })

  it('the pure-JS provider only decompresses: compressing fails with CompressionUnavailable, never writes uncompressed frames', () => {
    setZstdProvider(pureJsZstd)
    expect(zstdCompressorUnavailable()).toMatch(/^no zstd compressor loads here \(node:zlib: .*; zstd-napi: .*; @toondepauw\/node-zstd: .*\)/)
    const err = thrown(() => compress(text, 3))
    expect(err.code).toBe('CompressionUnavailable')
    expect(err.message).toMatch(/^cannot compress at zstd level 3: no zstd compressor loads here/)
    expect(err.message).not.toContain('\n')
    const z = compressors[0]!.compress(text, 3)
    expect(decompress(z, 'x', text.length)).toEqual(text)
    expect(thrown(() => decompress(z, 'tree blob 1a2b3c4d', text.length + 10)).code).toBe('DecodeError')
    expect(thrown(() => decompress(z, 'tree blob 1a2b3c4d', text.length - 1)).code).toBe('DecodeError')
    expect(thrown(() => decompress(randomBytes(100), 'tree blob 1a2b3c4d')).code).toBe('DecodeError')
  })

  it('a custom provider that only decompresses is named in the error', () => {
    setZstdProvider({ ...pureJsZstd, name: 'mine' })
    expect(zstdCompressorUnavailable()).toBe('the zstd provider in use (mine) only decompresses')
  })
})
