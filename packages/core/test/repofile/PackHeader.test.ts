import { describe, expect, it } from 'vitest'
import {
  isRusticError,
  packHeaderEntrySize,
  packHeaderLength,
  packSizeFromBlobs,
  parsePackHeader,
  serializePackHeader,
  type Id,
  type PackBlob,
} from '@rustic-ts/core/internal'

const id = (c: string): Id => c.repeat(64) as Id

function expectDecodeError(fn: () => unknown, text: string): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(isRusticError(err, 'DecodeError')).toBe(true)
  expect((err as Error).message).toContain(text)
}

describe('pack header', () => {
  const blobs: PackBlob[] = [
    { type: 'data', id: id('a'), offset: 0, length: 100 },
    { type: 'tree', id: id('b'), offset: 100, length: 50 },
    { type: 'data', id: id('c'), offset: 150, length: 70, uncompressedLength: 1000 },
    { type: 'tree', id: id('d'), offset: 220, length: 33, uncompressedLength: 12 },
  ]

  it('writes 37/41-byte entries with types 0-3 and reads them back with cumulative offsets', () => {
    expect(packHeaderEntrySize({})).toBe(37)
    expect(packHeaderEntrySize({ uncompressedLength: 5 })).toBe(41)
    const plain = serializePackHeader(blobs)
    expect(plain.length).toBe(37 + 37 + 41 + 41)
    expect([plain[0], plain[37], plain[74], plain[115]]).toEqual([0, 1, 2, 3])
    expect(Buffer.from(plain.subarray(1, 5)).readUInt32LE(0)).toBe(100)
    expect(Buffer.from(plain.subarray(79, 83)).readUInt32LE(0)).toBe(1000)
    expect(Buffer.from(plain.subarray(83, 115)).toString('hex')).toBe(id('c'))
    expect(parsePackHeader(plain, 'pack x')).toEqual(blobs)
    expect(parsePackHeader(new Uint8Array(0), 'pack x')).toEqual([])
  })

  it('computes the pack size as restic check does', () => {
    expect(packSizeFromBlobs(blobs)).toBe(4 + 32 + 253 + 37 + 37 + 41 + 41)
    expect(packSizeFromBlobs([])).toBe(36)
  })

  it('rejects unknown types and truncated entries', () => {
    const plain = serializePackHeader(blobs)
    const bad = Uint8Array.from(plain)
    bad[37] = 4
    expectDecodeError(() => parsePackHeader(bad, 'pack 1234abcd'), 'pack 1234abcd')
    expectDecodeError(() => parsePackHeader(plain.subarray(0, 40), 'pack 1234abcd'), 'truncated')
  })

  it('checks the header length from the tail', () => {
    const tail = new Uint8Array([0, 0, 0, 0, 69, 0, 0, 0])
    expect(packHeaderLength(tail, 1000, 'pack x')).toBe(69)
    expectDecodeError(() => packHeaderLength(tail, 60, 'pack 1234abcd'), 'pack 1234abcd')
    expectDecodeError(() => packHeaderLength(new Uint8Array([31, 0, 0, 0]), 1000, 'pack x'), 'invalid header length')
    expectDecodeError(() => packHeaderLength(new Uint8Array([0, 0, 0, 2]), 2 ** 32, 'pack x'), 'invalid header length')
  })
})
