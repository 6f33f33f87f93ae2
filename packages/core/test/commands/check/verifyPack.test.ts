import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashId, Key } from '@rustic-ts/core/internal'
import { verifyPack } from '../../../src/commands/check/verifyPack.js'
import { makePack } from './packFixture.js'

const key = Key.random()

const plains = [randomBytes(5000), Buffer.from('text '.repeat(2000)), randomBytes(300), Buffer.from('more text '.repeat(500))]

describe('verifyPack', () => {
  it('finds nothing wrong with a sound pack and verifies every blob', () => {
    const { bytes, entries } = makePack(key, plains)
    expect(verifyPack(key, hashId(bytes), bytes, entries)).toEqual({ problems: [], blobsVerified: 4 })
  })

  it('a flipped byte inside a blob: the pack hash and that blob (MAC) are reported, the others verify', () => {
    const { bytes, entries } = makePack(key, plains)
    const id = hashId(bytes)
    bytes[entries[1]!.offset + 20]! ^= 1
    const r = verifyPack(key, id, bytes, entries)
    expect(r.blobsVerified).toBe(3)
    expect(r.problems.map((p) => p.kind)).toEqual(['packHashMismatch', 'blobDamaged'])
    expect(r.problems[0]!.message).toBe(`Pack ID does not match, want ${id}, got ${hashId(bytes)}`)
    expect(r.problems[1]!.blob).toEqual({ type: 'data', id: entries[1]!.id })
    expect(r.problems[1]!.message).toMatch(/MAC check failed/)
  })

  it('a blob whose content does not hash to its id (sound MAC): reported by id', () => {
    const { bytes, entries } = makePack(key, plains)
    const wrong = entries.map((e, i) => (i === 2 ? { ...e, id: hashId(Buffer.from('something else')) } : e))
    const r = verifyPack(key, hashId(bytes), bytes, wrong)
    expect(r.problems.map((p) => p.kind)).toEqual(['packHeaderMismatch', 'packHeaderMismatch', 'blobDamaged'])
    expect(r.problems[2]!.message).toContain(`its content hashes to ${entries[2]!.id}`)
  })

  it('index entries that differ from the header (offset, uncompressed length, missing entry) are each reported', () => {
    const { bytes, entries } = makePack(key, plains)
    const id = hashId(bytes)
    const shifted = entries.map((e, i) => (i === 0 ? { ...e, offset: e.offset + 1 } : e))
    expect(verifyPack(key, id, bytes, shifted).problems.filter((p) => p.kind === 'packHeaderMismatch')).toHaveLength(2)
    const wrongLength = entries.map((e, i) => (i === 1 ? { ...e, uncompressedLength: e.uncompressedLength! + 1 } : e))
    const r = verifyPack(key, id, bytes, wrongLength)
    expect(r.problems.map((p) => p.kind)).toEqual(['packHeaderMismatch', 'packHeaderMismatch', 'blobDamaged'])
    const missing = verifyPack(key, id, bytes, entries.slice(1)).problems
    expect(missing.map((p) => p.message)).toEqual([
      // entries of 37 (plain) and 41 (compressed) bytes, plus 32 for sealing the header
      `pack ${id}: Pack header size does not match, want ${41 + 37 + 41 + 32}, got ${37 + 41 + 37 + 41 + 32}`,
      `pack ${id}: Blob ${entries[0]!.id} is not contained in index or position is incorrect`,
    ])
  })

  it('a truncated pack: hash, unreadable header and the blobs beyond its end, in one line', () => {
    const { bytes, entries } = makePack(key, plains)
    const id = hashId(bytes)
    const r = verifyPack(key, id, bytes.subarray(0, entries[2]!.offset + 10), entries)
    expect(r.blobsVerified).toBe(2)
    expect(r.problems.map((p) => p.kind)).toEqual(['packHashMismatch', 'packHeaderDamaged', 'packSizeMismatch'])
    expect(r.problems[2]!.message).toMatch(/2 indexed blobs lie beyond its end/)
  })

  it('a damaged header is reported without stopping the blob checks', () => {
    const { bytes, entries } = makePack(key, plains)
    const id = hashId(bytes)
    bytes[bytes.length - 10]! ^= 1
    const r = verifyPack(key, id, bytes, entries)
    expect(r.blobsVerified).toBe(4)
    expect(r.problems.map((p) => p.kind)).toEqual(['packHashMismatch', 'packHeaderDamaged'])
    expect(r.problems[1]!.message).toMatch(/header .*MAC check failed/)
  })
})
