import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  compress,
  compressionLevel,
  CompressionModeSchema,
  decompress,
  nativeZstd,
  pureJsZstd,
  isRusticError,
  type RusticError,
  setZstdProvider,
  zstdProvider,
  zstdStoredFrame,
} from '@rustic-ts/core/internal'

function catchError(fn: () => unknown): RusticError {
  try {
    fn()
  } catch (e) {
    if (isRusticError(e)) return e
    throw e
  }
  throw new Error('expected an error')
}

const text = new TextEncoder().encode('{"nodes":[{"name":"a.txt","type":"file"}]}\n'.repeat(2000))
const samples = [new Uint8Array(0), new Uint8Array([42]), text, randomBytes(300_000), new Uint8Array(1 << 20)]

describe('compression modes', () => {
  it('maps modes to zstd levels like restic (auto = 3) and rustic (0 = off)', () => {
    expect(compressionLevel('off')).toBeUndefined()
    expect(compressionLevel('auto')).toBe(3)
    expect(compressionLevel('max')).toBe(19)
    expect(compressionLevel(7)).toBe(7)
    expect(compressionLevel(-5)).toBe(-5)
    expect(compressionLevel(0)).toBeUndefined()
    expect(catchError(() => compressionLevel(23)).kind).toBe('InvalidInput')
    expect(catchError(() => compressionLevel('fast' as never)).kind).toBe('InvalidInput')
    expect(CompressionModeSchema.parse(undefined)).toBe('auto')
    expect(CompressionModeSchema.safeParse(2.5).success).toBe(false)
  })
})

describe('zstd', () => {
  const native = nativeZstd()
  afterEach(() => setZstdProvider(native ?? pureJsZstd))

  it('zstd-napi loads here and is the default', () => {
    expect(native?.name).toBe('zstd-napi')
    expect(zstdProvider().name).toBe('zstd-napi')
  })

  it('round-trips and writes frames without checksum', () => {
    for (const level of [-3, 1, 3, 19]) {
      for (const s of samples) {
        const z = compress(s, level)
        expect([...z.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd])
        expect(z[4]! & 0x04).toBe(0) // Content_Checksum_flag
        expect(Buffer.from(decompress(z, 'blob', s.length)).equals(Buffer.from(s))).toBe(true)
        expect(Buffer.from(decompress(z, 'blob')).equals(Buffer.from(s))).toBe(true)
      }
    }
    expect(compress(text, 19).length).toBeLessThan(compress(text, 1).length + 1)
    expect(compress(text, 3).length).toBeLessThan(text.length / 20)
  })

  it('native and pure-JS decoders read each other\'s frames', () => {
    for (const s of samples) {
      const z = native!.compress(s, 3)
      expect(Buffer.from(pureJsZstd.decompress(z)).equals(Buffer.from(s))).toBe(true)
      const stored = zstdStoredFrame(s)
      expect(stored.length).toBe(13 + 3 * Math.max(1, Math.ceil(s.length / 131072)) + s.length)
      expect(Buffer.from(native!.decompress(stored)).equals(Buffer.from(s))).toBe(true)
      expect(Buffer.from(pureJsZstd.decompress(stored)).equals(Buffer.from(s))).toBe(true)
    }
  })

  it('the pure-JS provider works through compress/decompress, including length checks', () => {
    setZstdProvider(pureJsZstd)
    const z = compress(text, 3)
    expect(decompress(z, 'x', text.length)).toEqual(text)
    expect(catchError(() => decompress(z, 'tree blob 1a2b3c4d', text.length + 10)).code).toBe('DecodeError')
    expect(catchError(() => decompress(z, 'tree blob 1a2b3c4d', text.length - 1)).code).toBe('DecodeError')
    expect(catchError(() => decompress(randomBytes(100), 'tree blob 1a2b3c4d')).code).toBe('DecodeError')
  })

  it('reports bad data and wrong lengths as DecodeError naming the object', () => {
    const z = compress(text, 3)
    for (const [data, expected] of [
      [randomBytes(50), undefined],
      [z.subarray(0, z.length - 5), undefined],
      [z, text.length - 1],
      [z, text.length + 1],
    ] as const) {
      const err = catchError(() => decompress(data, 'data blob 1a2b3c4d in pack 5e6f7a8b', expected))
      expect(err.kind).toBe('Repository')
      expect(err.code).toBe('DecodeError')
      expect(err.message).toContain('data blob 1a2b3c4d in pack 5e6f7a8b')
    }
  })

  it('does not allocate what a frame claims beyond the expected length', () => {
    // A stored frame that claims 4 GiB of content but holds 10 bytes.
    const frame = zstdStoredFrame(new Uint8Array(10))
    new DataView(frame.buffer).setBigUint64(5, 2n ** 32n, true)
    expect(catchError(() => decompress(frame, 'blob', 10)).code).toBe('DecodeError')
  })
})
