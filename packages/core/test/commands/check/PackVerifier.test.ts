import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashId, Key, type Id, type IndexBlob } from '@rustic-ts/core/internal'
import { BlobVerifier } from '../../../src/commands/check/BlobVerifier.js'
import { PackVerifier, type PackVerification } from '../../../src/commands/check/PackVerifier.js'
import { planPackReads } from '../../../src/commands/check/planPackReads.js'
import { verifyPack } from '../../../src/commands/check/verifyPack.js'
import { makePack } from './packFixture.js'

const key = Key.random()
const opener = new BlobVerifier(key)
const plains = [randomBytes(5000), Buffer.from('text '.repeat(2000)), randomBytes(300), Buffer.from('more text '.repeat(500)), randomBytes(70_000)]

/** Verifies `bytes` streamed: the tail from `tailStart`, then the rest cut at `cuts`. */
function streamed(id: Id, bytes: Uint8Array, entries: IndexBlob[], cuts: number[], tailStart = planPackReads(bytes.length, entries, Infinity).tailStart): PackVerification {
  const v = new PackVerifier(key, id, bytes.length, entries, tailStart, bytes.slice(tailStart), opener)
  let at = 0
  for (const cut of [...cuts.filter((c) => c < tailStart), tailStart]) {
    v.push(bytes.slice(at, cut))
    at = cut
  }
  return v.finish()
}

/** Cut points every `step` bytes. */
const every = (step: number, n: number): number[] => Array.from({ length: Math.ceil(n / step) }, (_, i) => (i + 1) * step)

describe('PackVerifier', () => {
  it('gives what whole-pack verification gives, however the pack is cut (blobs and header spread over pieces)', () => {
    const { bytes, entries, id } = makePack(key, plains)
    const damaged = bytes.slice()
    damaged[entries[1]!.offset + 20]! ^= 1
    damaged[damaged.length - 10]! ^= 1
    const truncated = bytes.slice(0, entries[3]!.offset + 10)
    const wrongIndex = entries.map((e, i) => (i === 2 ? { ...e, id: hashId(Buffer.from('other')) } : e))
    const cases: Array<[Uint8Array, IndexBlob[]]> = [
      [bytes, entries],
      [damaged, entries],
      [truncated, entries],
      [bytes, wrongIndex],
      [bytes, entries.slice(1)], // the header holds more than the index implies: it starts before the tail
      [bytes, entries.map((e, i) => (i === 3 ? { ...e, offset: e.offset - 7 } : e))], // overlapping entries
    ]
    for (const [b, e] of cases) {
      const whole = verifyPack(key, id as Id, b, e)
      for (const step of [1, 997, 4096, 60_000]) expect(streamed(id as Id, b, e, every(step, b.length))).toEqual(whole)
    }
    expect(verifyPack(key, id as Id, bytes, entries)).toEqual({ problems: [], blobsVerified: 5 })
    expect(verifyPack(key, id as Id, bytes, entries.slice(1)).problems.map((p) => p.kind)).toEqual(['packHeaderMismatch', 'packHeaderMismatch'])
  })

  it('does not open again the blobs given as verified (same offset, lengths and id), and finds the rest as before', () => {
    const { bytes, entries, id } = makePack(key, plains)
    const damaged = bytes.slice()
    damaged[entries[1]!.offset + 20]! ^= 1
    damaged[damaged.length - 10]! ^= 1
    const counting = new BlobVerifier(key)
    let opened = 0
    const problem = counting.problem.bind(counting)
    counting.problem = (sealed, b) => {
      opened++
      return problem(sealed, b)
    }
    const verified = new Map(entries.map((e) => [e.offset, { id: e.id, length: e.length, ...(e.uncompressedLength ? { uncompressedLength: e.uncompressedLength } : {}) }]))
    // (blob 2's entry is not the one verified: another length; so it is opened)
    verified.set(entries[2]!.offset, { ...verified.get(entries[2]!.offset)!, length: entries[2]!.length + 1 })
    for (const b of [bytes, damaged]) {
      opened = 0
      const { tailStart } = planPackReads(b.length, entries, Infinity)
      const v = new PackVerifier(key, id as Id, b.length, entries, tailStart, b.slice(tailStart), counting, verified)
      v.push(b.slice(0, tailStart))
      const got = v.finish()
      expect(opened).toBe(1)
      // the pack's hash and header are still checked; only the blobs given as sound are taken as such
      expect(got.problems.map((p) => p.kind)).toEqual(b === bytes ? [] : ['packHashMismatch', 'packHeaderDamaged'])
      expect(got.blobsVerified).toBe(5)
    }
  })

  it('a tail that starts anywhere before the header gives the same result', () => {
    const { bytes, entries, id } = makePack(key, plains)
    const whole = verifyPack(key, id as Id, bytes, entries)
    for (const tailStart of [0, 1, entries[4]!.offset + 3, bytes.length - 4]) {
      expect(streamed(id as Id, bytes, entries, every(3000, bytes.length), tailStart)).toEqual(whole)
    }
  })

  it('refuses a tail that does not end the pack, bytes past the tail, and a finish before every byte', () => {
    const { bytes, entries, id } = makePack(key, plains)
    const { tailStart } = planPackReads(bytes.length, entries, Infinity)
    expect(() => new PackVerifier(key, id as Id, bytes.length, entries, tailStart, bytes.slice(tailStart + 1), opener)).toThrow(/does not end a pack/)
    expect(() => new PackVerifier(key, id as Id, bytes.length, entries, bytes.length - 3, bytes.slice(bytes.length - 3), opener)).toThrow(/does not end a pack/)
    const v = new PackVerifier(key, id as Id, bytes.length, entries, tailStart, bytes.slice(tailStart), opener)
    expect(() => v.push(bytes.slice(0, tailStart + 1))).toThrow(/overrun the tail/)
    v.push(bytes.slice(0, 10))
    expect(() => v.finish()).toThrow(/were not all given/)
  })

  it('cuts parts where blobs end, of about the size asked (a larger blob whole), and verifies them as one piece', () => {
    const { bytes, entries, id } = makePack(key, plains)
    const ends = new Set(entries.map((e) => e.offset + e.length))
    const { tailStart } = planPackReads(bytes.length, entries, Infinity)
    for (const step of [1, 4000, 9000, 1 << 20]) {
      const v = new PackVerifier(key, id as Id, bytes.length, entries, tailStart, bytes.slice(tailStart), opener)
      const cuts: number[] = []
      for (let at = 0; at < tailStart; ) {
        const n = v.partLength(tailStart - at, step)
        expect(n).toBeGreaterThan(0)
        v.push(bytes.slice(at, at + n))
        at += n
        cuts.push(at)
      }
      // every cut but the last (the tail's start) is where a blob ends; parts exceed the step only by one blob
      for (const c of cuts.slice(0, -1)) expect(ends.has(c)).toBe(true)
      cuts.forEach((c, i) => {
        const from = i === 0 ? 0 : cuts[i - 1]!
        if (c - from > step) expect(entries.some((e) => e.offset === from && e.offset + e.length === c)).toBe(true)
      })
      expect(v.finish()).toEqual({ problems: [], blobsVerified: 5 })
    }
  })

  it('only reads the pieces it is given', () => {
    const { bytes, entries, id } = makePack(key, plains)
    const copy = bytes.slice()
    expect(streamed(id as Id, copy, entries, every(1000, copy.length)).problems).toEqual([])
    expect(copy).toEqual(bytes)
  })
})

describe('planPackReads', () => {
  it('starts the tail at the header the index implies; pieces cover the rest in order, cut only at blob starts', () => {
    const { bytes, entries } = makePack(key, plains)
    const headerStart = entries[4]!.offset + entries[4]!.length
    for (const pieceBytes of [1, 8000, 80_000, Infinity]) {
      const plan = planPackReads(bytes.length, [...entries].reverse(), pieceBytes)
      expect(plan.tailStart).toBe(headerStart)
      let at = 0
      for (const p of plan.pieces) {
        expect(p.offset).toBe(at)
        expect(entries.some((e) => e.offset === p.offset)).toBe(true)
        // larger than asked only when it is one blob
        if (p.length > pieceBytes) expect(entries.some((e) => e.offset === p.offset && e.length === p.length)).toBe(true)
        at += p.length
      }
      expect(at).toBe(headerStart)
    }
    expect(planPackReads(bytes.length, entries, 1).pieces).toHaveLength(5)
    expect(planPackReads(bytes.length, entries, Infinity).pieces).toHaveLength(1)
  })

  it('a pack too small for its index is all tail (with at least its last 4 bytes)', () => {
    const { entries } = makePack(key, plains)
    expect(planPackReads(3, entries, 1000)).toEqual({ tailStart: 0, pieces: [] })
    expect(planPackReads(100, entries, 1000)).toEqual({ tailStart: 0, pieces: [] })
  })
})
