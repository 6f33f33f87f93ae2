import { describe, expect, it } from 'vitest'
import { compress, decodeUnpacked, encodeUnpacked, encodeUnpackedWithRoom, isRusticError } from '@rustic-ts/core/internal'

const json = new TextEncoder().encode('{"packs":[]}\n'.repeat(100))

describe('unpacked files', () => {
  it('v1 is the JSON as is; v2 is 0x02 + zstd', () => {
    expect(encodeUnpacked(json, 1)).toBe(json)
    const v2 = encodeUnpacked(json, 2)
    expect(v2[0]).toBe(2)
    expect([...v2.subarray(1, 5)]).toEqual([0x28, 0xb5, 0x2f, 0xfd])
    expect(v2.length).toBeLessThan(json.length)
    expect(decodeUnpacked(v2, 'index')).toEqual(json)
    expect(decodeUnpacked(encodeUnpacked(json, 2, 19), 'index')).toEqual(json)
    expect(decodeUnpacked(json, 'index')).toBe(json)
    const arr = new TextEncoder().encode('[1]')
    expect(decodeUnpacked(arr, 'x')).toBe(arr)
  })

  it('writes the same bytes with room before and after them, the zstd frame as compress makes it', () => {
    const big = new TextEncoder().encode('{"id":"0123456789abcdef","type":"data","offset":12345,"length":678}\n'.repeat(20_000))
    for (const data of [json, big]) {
      for (const version of [1, 2] as const) {
        const buf = encodeUnpackedWithRoom(data, version, 3, 16, 16)
        expect(buf.length).toBe(encodeUnpacked(data, version, 3).length + 32)
        expect(buf.subarray(16, buf.length - 16)).toEqual(encodeUnpacked(data, version, 3))
        expect(decodeUnpacked(buf.subarray(16, buf.length - 16), 'index')).toEqual(data)
      }
      expect(encodeUnpackedWithRoom(data, 2, 19, 3, 0).subarray(4)).toEqual(compress(data, 19))
    }
  })

  it('rejects other first bytes and bad zstd with DecodeError naming the file', () => {
    for (const bad of [new Uint8Array(0), new Uint8Array([0x01, 1, 2]), new Uint8Array([0x02, 1, 2, 3]), new TextEncoder().encode(' {}')]) {
      let err: unknown
      try {
        decodeUnpacked(bad, 'snapshot 1a2b3c4d')
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'DecodeError')).toBe(true)
      expect((err as Error).message).toContain('snapshot 1a2b3c4d')
    }
  })
})
