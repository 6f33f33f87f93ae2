import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { hashId, Key, type Id, type IndexBlob } from '@rustic-ts/core/internal'
import { BlobVerifier } from '../../../src/commands/check/BlobVerifier.js'
import { mergePackParts, PackVerifier, type PackVerification } from '../../../src/commands/check/PackVerifier.js'
import { planPackParts } from '../../../src/commands/check/planPackParts.js'
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
      const v = new PackVerifier(key, id as Id, b.length, entries, tailStart, b.slice(tailStart), counting, undefined, verified)
      v.push(b.slice(0, tailStart))
      const got = v.finish()
      expect(opened).toBe(1)
      // the pack's hash and header are still checked; only the blobs given as sound are taken as such
      expect(got.problems.map((p) => p.kind)).toEqual(b === bytes ? [] : ['packHashMismatch', 'packHeaderDamaged'])
      expect(got.blobsVerified).toBe(5)
    }
  })

  it('a pack verified in parts (each by a verifier of its own, given only its pieces), merged, gives what one verifier gives', () => {
    const { bytes, entries, id } = makePack(key, plains)
    const damaged = bytes.slice()
    damaged[entries[1]!.offset + 20]! ^= 1
    damaged[entries[4]!.offset + 9]! ^= 1
    const header = bytes.slice()
    header[header.length - 10]! ^= 1
    const cases: Array<[Uint8Array, IndexBlob[]]> = [
      [bytes, entries],
      [damaged, entries],
      [header, entries],
      [bytes.slice(0, entries[3]!.offset + 10), entries], // truncated: blobs beyond the end
      [bytes.slice(0, entries[4]!.offset + 100), entries], // truncated inside the last blob
      [bytes, entries.map((e, i) => (i === 2 ? { ...e, id: hashId(Buffer.from('other')) } : e))],
      [bytes, entries.slice(1)],
      [bytes, entries.slice(0, 3)], // the header is more than the index implies
      [bytes, entries.map((e, i) => (i === 3 ? { ...e, offset: e.offset - 7 } : e))], // overlapping entries
    ]
    let split = 0
    for (const [b, e] of cases) {
      const whole = verifyPack(key, id as Id, b, e)
      for (const pieceBytes of [1, 6000, 40_000]) {
        const plan = planPackReads(b.length, e, pieceBytes)
        for (const n of [2, 3, 5]) {
          const parts = planPackParts(b.length, e, plan, n)
          if (parts.length > 1) split++
          const found = parts.map(({ part, plan: { tailStart, pieces }, blobs }) => {
            expect(blobs.length).toBeLessThanOrEqual(e.length)
            const v = new PackVerifier(key, id as Id, b.length, blobs, tailStart, b.slice(tailStart), opener, part)
            for (const p of pieces) v.push(b.slice(p.offset, p.offset + p.length))
            return v.finish()
          })
          expect(mergePackParts(found)).toEqual(whole)
        }
      }
    }
    expect(split).toBeGreaterThan(cases.length * 3)
    expect(verifyPack(key, id as Id, damaged, entries).problems.map((p) => p.kind)).toEqual(['packHashMismatch', 'blobDamaged', 'blobDamaged'])
  })

  it('a part refuses bytes past its end and a finish before all of them', () => {
    const { bytes, entries, id } = makePack(key, plains)
    const plan = planPackReads(bytes.length, entries, 1)
    const [, middle] = planPackParts(bytes.length, entries, plan, 3)
    const { part, plan: { tailStart, pieces } } = middle!
    expect(part.lead).toBe(false)
    const v = new PackVerifier(key, id as Id, bytes.length, entries, tailStart, bytes.slice(tailStart), opener, part)
    expect(() => v.push(bytes.slice(part.start, part.end + 1))).toThrow(/overrun the end of the part/)
    v.push(bytes.slice(pieces[0]!.offset, pieces[0]!.offset + 1))
    expect(() => v.finish()).toThrow(/were not all given/)
    expect(() => new PackVerifier(key, id as Id, bytes.length, entries, tailStart, bytes.slice(tailStart), opener, { ...part, lead: true })).toThrow(/does not fit/)
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

describe('planPackParts', () => {
  it('cuts where pieces start; the lead part reads every piece; each blob is in one part; bytes add up to the size', () => {
    const { bytes, entries } = makePack(key, plains)
    const plan = planPackReads(bytes.length, entries, 1)
    const starts = new Set(plan.pieces.map((p) => p.offset))
    for (const n of [2, 3, 4, 9]) {
      const parts = planPackParts(bytes.length, entries, plan, n)
      expect(parts.length).toBeGreaterThan(1)
      expect(parts.length).toBeLessThanOrEqual(Math.min(n, plan.pieces.length))
      expect(parts[0]!.part).toMatchObject({ start: 0, end: plan.tailStart, lead: true })
      expect(parts[0]!.plan).toEqual(plan)
      expect(parts.slice(1).every((p) => !p.part.lead && starts.has(p.part.start))).toBe(true)
      expect(parts.at(-1)!.part).toMatchObject({ end: plan.tailStart, blobsTo: Infinity })
      expect(parts.reduce((a, p) => a + p.bytes, 0)).toBe(bytes.length)
      expect(parts.reduce((a, p) => a + p.share, 0)).toBeCloseTo(1)
      for (const e of entries) {
        const from = (p: (typeof parts)[number]): number => (p.part.lead ? 0 : p.part.start)
        expect(parts.filter((p) => e.offset >= from(p) && e.offset < p.part.blobsTo)).toHaveLength(1)
      }
    }
    // one piece: not split
    expect(planPackParts(bytes.length, entries, planPackReads(bytes.length, entries, Infinity), 3)).toHaveLength(1)
  })

  it('balances the work: the lead part, which also hashes the whole pack, gets fewer blobs', () => {
    const { bytes, entries } = makePack(key, Array.from({ length: 40 }, () => randomBytes(4000)))
    const parts = planPackParts(bytes.length, entries, planPackReads(bytes.length, entries, 1), 2)
    expect(parts).toHaveLength(2)
    const blobs = parts.map((p) => entries.filter((e) => e.offset >= (p.part.lead ? 0 : p.part.start) && e.offset < p.part.blobsTo).length)
    expect(blobs[0]).toBeLessThan(blobs[1]!)
    for (const p of parts) expect(p.share).toBeCloseTo(0.5, 1)
  })
})
