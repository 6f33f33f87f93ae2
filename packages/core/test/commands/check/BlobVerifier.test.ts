import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { compress, hashId, Key, type IndexBlob } from '@rustic-ts/core/internal'
import { BlobVerifier } from '../../../src/commands/check/BlobVerifier.js'

const key = Key.random()
// compressible and larger than the 128 KiB zstd output buffer and the 1 MiB pieces of the cipher
const big = Buffer.concat(Array.from({ length: 40 }, (_, i) => Buffer.from(`line ${i} `.repeat(9000))))

function sealed(plain: Uint8Array, compressed: boolean): { bytes: Uint8Array; blob: IndexBlob } {
  const bytes = key.encrypt(compressed ? compress(plain, 3) : plain)
  return { bytes, blob: { type: 'data', id: hashId(plain), offset: 0, length: bytes.length, ...(compressed ? { uncompressedLength: plain.length } : {}) } }
}

describe.each([
  ['native zstd, streamed', new BlobVerifier(key)],
  ['whole blobs, as without the native zstd', new BlobVerifier(key, null)],
])('BlobVerifier (%s)', (_, v) => {
  it('plain and compressed blobs of any size verify', () => {
    expect(big.length).toBeGreaterThan(2 << 20)
    for (const plain of [big, randomBytes(2 << 20), Buffer.alloc(3 << 20), Buffer.alloc(0), Buffer.from('x')]) {
      // (an empty blob is never compressed: its index entry would have no uncompressed length)
      for (const compressed of plain.length > 0 ? [false, true] : [false]) {
        const { bytes, blob } = sealed(plain, compressed)
        expect(v.problem(bytes, blob)).toBeUndefined()
      }
    }
  })

  it('reports a MAC failure, a wrong id and a wrong uncompressed length', () => {
    const { bytes, blob } = sealed(big, true)
    const flipped = bytes.slice()
    flipped[100]! ^= 1
    expect(v.problem(flipped, blob)).toMatch(/^MAC check failed for blob [0-9a-f]{8}/)
    expect(v.problem(bytes, { ...blob, id: hashId(Buffer.from('other')) })).toBe(`its content hashes to ${blob.id}`)
    expect(v.problem(bytes, { ...blob, uncompressedLength: big.length + 1 })).toMatch(/^cannot decompress blob [0-9a-f]{8}: got \d+ bytes, expected \d+$/)
    expect(v.problem(bytes, { ...blob, uncompressedLength: big.length - 1 })).toMatch(/^cannot decompress blob [0-9a-f]{8}/)
  })

  it('open gives the plaintext of exactly the blobs problem finds sound', () => {
    const frame = compress(big, 3)
    const cases: Array<[Uint8Array, IndexBlob]> = []
    for (const plain of [big, Buffer.from('x'), Buffer.alloc(0)]) {
      for (const compressed of plain.length > 0 ? [false, true] : [false]) {
        const { bytes, blob } = sealed(plain, compressed)
        const flipped = bytes.slice()
        flipped[bytes.length >> 1]! ^= 1
        cases.push([bytes, blob], [flipped, blob], [bytes, { ...blob, id: hashId(Buffer.from('other')) }])
        if (compressed) cases.push([bytes, { ...blob, uncompressedLength: plain.length + 1 }], [bytes, { ...blob, uncompressedLength: plain.length - 1 }])
      }
    }
    const entry = (bytes: Uint8Array, plain: Uint8Array, ul?: number): [Uint8Array, IndexBlob] => [
      bytes,
      { type: 'data', id: hashId(plain), offset: 0, length: bytes.length, ...(ul ? { uncompressedLength: ul } : {}) },
    ]
    cases.push(entry(key.encrypt(frame.subarray(0, frame.length >> 1)), big, big.length))
    cases.push(entry(key.encrypt(Buffer.concat([frame, frame])), Buffer.concat([big, big]), 2 * big.length))
    cases.push(entry(key.encrypt(randomBytes(5000)), big, big.length))
    cases.push(entry(new Uint8Array(20), big))
    let sound = 0
    for (const [bytes, blob] of cases) {
      const plain = v.open(bytes, blob)
      if (v.problem(bytes, blob) === undefined) {
        sound++
        expect(plain).toBeDefined()
        expect(hashId(plain!)).toBe(blob.id)
      } else expect(plain).toBeUndefined()
    }
    expect(sound).toBe(6)
  })

  it('reports a zstd frame cut short or not zstd at all (with a sound MAC)', () => {
    const frame = compress(big, 3)
    const cut = key.encrypt(frame.subarray(0, frame.length >> 1))
    const blob: IndexBlob = { type: 'data', id: hashId(big), offset: 0, length: cut.length, uncompressedLength: big.length }
    expect(v.problem(cut, blob)).toMatch(/^cannot decompress blob [0-9a-f]{8}/)
    const junk = key.encrypt(randomBytes(5000))
    expect(v.problem(junk, { ...blob, length: junk.length })).toMatch(/^cannot decompress blob [0-9a-f]{8}/)
  })
})
