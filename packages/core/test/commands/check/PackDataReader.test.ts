import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { Key, type ByteBudget, type Id } from '@rustic-ts/core/internal'
import { FindingCollector } from '../../../src/commands/check/CheckFinding.js'
import { PackDataReader, packWork, type PackToRead } from '../../../src/commands/check/PackDataReader.js'
import { PackVerifier } from '../../../src/commands/check/PackVerifier.js'
import { BlobVerifier } from '../../../src/commands/check/BlobVerifier.js'
import { verifiersHere, type PackVerifiers } from '../../../src/commands/check/PackVerifiers.js'
import { NO_PROGRESS } from '../../../src/progress/Progress.js'
import { makePack } from './packFixture.js'

const key = Key.random()
const MEMORY = 64 * 1024

/** Eight packs of blobs of 2-12 KiB, by id. */
function packs(): Map<Id, { pack: PackToRead; bytes: Uint8Array }> {
  const out = new Map<Id, { pack: PackToRead; bytes: Uint8Array }>()
  for (let i = 0; i < 8; i++) {
    const { bytes, entries, id } = makePack(key, Array.from({ length: 12 }, (_, j) => randomBytes(2048 + ((i * 7 + j * 3) % 10) * 1024)))
    out.set(id as Id, { pack: { id: id as Id, size: bytes.length, blobs: entries }, bytes })
  }
  return out
}

/** Bytes read and not verified yet (the memory the reader holds), and the most there ever were. */
class Tracker {
  now = 0
  peak = 0
  add(n: number): void {
    this.now += n
    this.peak = Math.max(this.peak, this.now)
  }
  /** Verifiers that verify here, slowly, and count what they are given as verified once they are done with it. */
  verifiers(): PackVerifiers {
    const inner = verifiersHere(key)
    return {
      begin: (packId, size, blobs, tailStart, tail, shared) => {
        this.add(-tail.length)
        const s = inner.begin(packId, size, blobs, tailStart, tail, shared)
        // pieces are verified in order, as a worker takes its messages
        let last = Promise.resolve()
        return {
          push: (piece, sharedPiece) => {
            const n = piece.length
            last = last.then(async () => {
              await sleep(1 + (n % 3))
              await s.push(piece, sharedPiece)
              this.add(-n)
            })
            return last
          },
          end: () => s.end(),
          drop: () => s.drop(),
        }
      },
      close: () => inner.close(),
    }
  }
}

describe('PackDataReader', () => {
  it('verifies every pack with no more than its memory in flight', async () => {
    const all = packs()
    const t = new Tracker()
    const findings = new FindingCollector()
    const reader = new PackDataReader(t.verifiers(), findings, { memory: MEMORY })
    let progress = 0
    let reads = 0
    await reader.read(
      [...all.values()].map((p) => p.pack),
      async (pack, offset, length) => {
        t.add(length)
        reads++
        await sleep(length % 2)
        return all.get(pack.id)!.bytes.slice(offset, offset + length)
      },
      { concurrency: 4, progress: { ...NO_PROGRESS, inc: (n: number) => void (progress += n) } },
    )
    expect(findings.findings).toEqual([])
    expect(reader.packs).toBe(8)
    expect(reader.bytes).toBe(progress)
    expect(reads).toBeGreaterThan(8 * 3) // tails and pieces of at most a quarter of the memory
    expect(t.now).toBe(0)
    expect(t.peak).toBeGreaterThan(MEMORY / 2)
    expect(t.peak).toBeLessThanOrEqual(MEMORY)
  })

  it('splits its memory evenly between the lanes of the verifiers, so that each lane has pieces queued', async () => {
    const all = packs()
    const lanes = [new Tracker(), new Tracker()]
    const laneOf = new Map<Id, number>()
    const inner = lanes.map((t) => t.verifiers())
    const verifiers: PackVerifiers = {
      lanes: 2,
      begin: (packId, size, blobs, tailStart, tail, shared, lane) => {
        laneOf.set(packId, lane!)
        lanes[lane!]!.add(tail.length) // counted from here on (the tail was read before the lane was known)
        return inner[lane!]!.begin(packId, size, blobs, tailStart, tail, shared)
      },
      close: async () => {},
    }
    const reader = new PackDataReader(verifiers, new FindingCollector(), { memory: MEMORY })
    await reader.read(
      [...all.values()].map((p) => p.pack),
      async (pack, offset, length) => {
        const lane = laneOf.get(pack.id)
        if (lane !== undefined) lanes[lane]!.add(length)
        await sleep(length % 2)
        return all.get(pack.id)!.bytes.slice(offset, offset + length)
      },
      { concurrency: 4, progress: NO_PROGRESS },
    )
    expect(reader.packs).toBe(8)
    for (const t of lanes) {
      expect(t.now).toBe(0)
      expect(t.peak).toBeGreaterThan(MEMORY / 4)
      expect(t.peak).toBeLessThanOrEqual(MEMORY / 2)
    }
  })

  it('reads the packs with the most work first, each on the lane with the least work in progress', async () => {
    const made = [12, 6, 5].map((n) => makePack(key, Array.from({ length: n }, () => randomBytes(4096))))
    const [a, b, c] = made.map(({ bytes, entries, id }) => ({ pack: { id: id as Id, size: bytes.length, blobs: entries }, bytes }))
    expect(packWork(a!.pack)).toBeGreaterThan(packWork(b!.pack))
    expect(packWork(b!.pack)).toBeGreaterThan(packWork(c!.pack))
    const bytesOf = new Map([a!, b!, c!].map((p) => [p.pack.id, p.bytes]))
    const read = async (pack: PackToRead, offset: number, length: number): Promise<Uint8Array> => bytesOf.get(pack.id)!.slice(offset, offset + length)
    for (const concurrency of [1, 3]) {
      const inner = verifiersHere(key)
      const begun: Array<[Id, number]> = []
      const verifiers: PackVerifiers = {
        lanes: 2,
        begin: (packId, size, blobs, tailStart, tail, shared, lane) => {
          begun.push([packId, lane!])
          return inner.begin(packId, size, blobs, tailStart, tail, shared)
        },
        close: async () => {},
      }
      const reader = new PackDataReader(verifiers, new FindingCollector(), { memory: MEMORY })
      await reader.read([c!.pack, a!.pack, b!.pack], read, { concurrency, progress: NO_PROGRESS })
      expect(reader.packs).toBe(3)
      const laneOf = new Map(begun)
      if (concurrency === 1) {
        // one at a time: the most work first; every lane is idle when a pack starts
        expect(begun.map(([id]) => id)).toEqual([a!.pack.id, b!.pack.id, c!.pack.id])
      } else {
        // all at once: the largest alone on one lane, the two smaller ones together on the other
        expect(laneOf.get(b!.pack.id)).toBe(laneOf.get(c!.pack.id))
        expect(laneOf.get(a!.pack.id)).not.toBe(laneOf.get(b!.pack.id))
      }
    }
  })

  /** A worker lane (0) and this thread's lane (1), both verifying here, and the lane each pack was given, in order. */
  const twoLanesRecorded = (): { verifiers: PackVerifiers; lanes: number[] } => {
    const inner = verifiersHere(key)
    const lanes: number[] = []
    const verifiers: PackVerifiers = {
      lanes: 2,
      hereLane: 1,
      begin: (packId, size, blobs, tailStart, tail, shared, lane, part) => {
        lanes.push(lane!)
        return inner.begin(packId, size, blobs, tailStart, tail, shared, lane, part)
      },
      close: async () => {},
    }
    return { verifiers, lanes }
  }

  it('the lane verifying on this thread takes one pack at a time, once the other lanes have two each', async () => {
    const all = [...packs().values()].slice(0, 4)
    const bytesOf = new Map(all.map((p) => [p.pack.id, p.bytes]))
    for (const [concurrency, here] of [[1, 0], [4, 1]] as const) {
      const { verifiers, lanes } = twoLanesRecorded()
      const reader = new PackDataReader(verifiers, new FindingCollector(), { memory: MEMORY })
      await reader.read(
        all.map((p) => p.pack),
        async (pack, offset, length) => bytesOf.get(pack.id)!.slice(offset, offset + length),
        { concurrency, progress: NO_PROGRESS },
      )
      expect(reader.packs).toBe(4)
      // (with four at once: the worker lane takes two, this thread's the third, the fourth goes to whichever frees first)
      if (here === 0) expect(lanes.filter((l) => l === 1)).toHaveLength(0)
      else expect(lanes.slice(0, 3)).toEqual([0, 0, 1])
    }
  })

  it('where a worker reads its packs itself, this thread takes back the pack queued behind the worker\'s last one rather than wait idle', async () => {
    const all = [...packs().values()].slice(0, 3)
    const bytesOf = new Map(all.map((p) => [p.pack.id, p.bytes]))
    const { verifiers, lanes } = twoLanesRecorded()
    // the worker lane (0) verifies its files one after the other; the first waits until this thread is done
    const filed: Id[] = []
    const withdrawn: Id[] = []
    const withdraws: Array<AbortSignal | undefined> = []
    let first: (() => void) | undefined
    let queue = Promise.resolve()
    verifiers.verifyFile = async (_lane, _path, packId, _size, blobs, _plan, withdraw) => {
      const nth = filed.push(packId)
      withdraws.push(withdraw)
      const turn = queue.then(async () => {
        if (withdraw?.aborted) {
          withdrawn.push(packId)
          return undefined
        }
        if (nth === 1) await new Promise<void>((resolve) => (first = resolve))
        return { problems: [], blobsVerified: blobs.length }
      })
      queue = turn.then(() => {})
      return turn
    }
    // (whole packs: the last ones are not split into parts here)
    const reader = new PackDataReader(verifiers, new FindingCollector(), { memory: MEMORY, endParts: 1 })
    const reads = new Set<Id>()
    const done = reader.read(
      all.map((p) => p.pack),
      async (pack, offset, length) => {
        reads.add(pack.id)
        return bytesOf.get(pack.id)!.slice(offset, offset + length)
      },
      { concurrency: 3, progress: NO_PROGRESS, localPath: async (pack) => `/packs/${pack.id}` },
    )
    // the worker gets two packs, this thread the third; once that is verified, it asks for the worker's second
    // back while the worker is still busy with its first
    for (let i = 0; i < 10_000 && withdraws[1]?.aborted !== true; i++) await sleep(1)
    expect(withdraws[1]?.aborted).toBe(true)
    first?.()
    await done
    expect(reader.packs).toBe(3)
    expect(filed).toHaveLength(2)
    expect(withdrawn).toEqual([filed[1]])
    expect(lanes).toEqual([1, 1])
    expect([...reads].sort()).toEqual(all.map((p) => p.pack.id).filter((id) => id !== filed[0]).sort())
  })

  it('where a worker reads its packs itself, the last packs are verified in parts on both lanes, with the findings of whole packs', async () => {
    const all = [...packs().values()].slice(0, 4)
    const bytesOf = new Map(all.map((p) => [p.pack.id, p.bytes.slice()]))
    // a damaged blob in each of the last two packs (the least work), and a pack hash that does not match
    const byWork = [...all].sort((a, b) => packWork(b.pack) - packWork(a.pack))
    const damagedBlobs = byWork.slice(2).map((p, i) => {
      const blob = p.pack.blobs[i === 0 ? 1 : 10]!
      bytesOf.get(p.pack.id)![blob.offset + 30]! ^= 1
      return blob.id
    })
    const run = async (endParts?: number): Promise<{ findings: FindingCollector; lanes: number[]; parts: number; bytes: number; progress: number }> => {
      const { verifiers, lanes } = twoLanesRecorded()
      const opener = new BlobVerifier(key)
      let parts = 0
      // the worker lane (0): reads the plan's pieces "from the file" and verifies them, slowly
      verifiers.verifyFile = async (lane, _path, packId, size, blobs, plan, _withdraw, part) => {
        lanes.push(lane)
        if (part) parts++
        const b = bytesOf.get(packId)!
        const v = new PackVerifier(key, packId, size, blobs, plan.tailStart, b.slice(plan.tailStart), opener, part)
        for (const p of plan.pieces) {
          await sleep(2)
          v.push(b.slice(p.offset, p.offset + p.length))
        }
        return v.finish()
      }
      const findings = new FindingCollector()
      const reader = new PackDataReader(verifiers, findings, { memory: MEMORY, ...(endParts ? { endParts } : {}) })
      let progress = 0
      await reader.read(
        all.map((p) => p.pack),
        async (pack, offset, length) => {
          await sleep(1)
          return bytesOf.get(pack.id)!.slice(offset, offset + length)
        },
        { concurrency: 4, progress: { ...NO_PROGRESS, inc: (n: number) => void (progress += n) }, localPath: async (pack) => `/packs/${pack.id}` },
      )
      expect(reader.packs).toBe(4)
      return { findings, lanes, parts, bytes: reader.bytes, progress }
    }
    const key2 = (f: FindingCollector): string[] => f.findings.map((x) => `${x.kind} ${x.file?.id} ${x.blob?.id} ${x.message}`).sort()
    const whole = await run(1)
    const split = await run()
    expect(whole.parts).toBe(0)
    expect(split.parts).toBeGreaterThan(0)
    // the parts of the last packs went to both lanes
    expect(new Set(split.lanes)).toEqual(new Set([0, 1]))
    expect(key2(split.findings)).toEqual(key2(whole.findings))
    expect(split.findings.findings.filter((x) => x.kind === 'blobDamaged').map((x) => x.blob?.id).sort()).toEqual([...damagedBlobs].sort())
    // per pack, in the order one verifier finds them: the pack hash, then the blob
    for (const p of byWork.slice(2)) {
      expect(split.findings.findings.filter((x) => x.file?.id === p.pack.id).map((x) => x.kind)).toEqual(['packHashMismatch', 'blobDamaged'])
    }
    expect([split.bytes, split.progress]).toEqual([whole.bytes, whole.progress])
  })

  it('holdHereLane keeps packs off the lane on this thread (the workers get its memory) until releaseHereLane', async () => {
    const all = [...packs().values()].slice(0, 6)
    const bytesOf = new Map(all.map((p) => [p.pack.id, p.bytes]))
    const { verifiers, lanes } = twoLanesRecorded()
    const reader = new PackDataReader(verifiers, new FindingCollector(), { memory: MEMORY })
    const budgets = (reader as unknown as { budgets: ByteBudget[] }).budgets
    reader.holdHereLane()
    // (the lane here has half an even share, the worker the rest; while held, the worker has all of it)
    expect(budgets.map((b) => b.max)).toEqual([MEMORY, MEMORY / 4])
    const read = async (pack: PackToRead, offset: number, length: number): Promise<Uint8Array> => bytesOf.get(pack.id)!.slice(offset, offset + length)
    await reader.read(all.slice(0, 3).map((p) => p.pack), read, { concurrency: 3, progress: NO_PROGRESS })
    expect(lanes).toEqual([0, 0, 0])
    reader.releaseHereLane()
    expect(budgets.map((b) => b.max)).toEqual([(MEMORY * 3) / 4, MEMORY / 4])
    await reader.read(all.slice(3).map((p) => p.pack), read, { concurrency: 3, progress: NO_PROGRESS })
    expect(lanes.slice(3)).toContain(1)
    expect(reader.packs).toBe(6)
  })

  it('a lane takes the next pack only once it has room: a slow lane gets fewer packs than a fast one', async () => {
    const all = [...packs().values()]
    const bytesOf = new Map(all.map((p) => [p.pack.id, p.bytes]))
    const fast = verifiersHere(key)
    const taken = [0, 0]
    const verifiers: PackVerifiers = {
      lanes: 2,
      begin: (packId, size, blobs, tailStart, tail, shared, lane) => {
        taken[lane!]!++
        const s = fast.begin(packId, size, blobs, tailStart, tail, shared)
        // lane 0 is slow: each piece takes a while
        return lane === 0 ? { ...s, push: async (piece, sharedPiece) => (await sleep(30), s.push(piece, sharedPiece)) } : s
      },
      close: async () => {},
    }
    const reader = new PackDataReader(verifiers, new FindingCollector(), { memory: MEMORY })
    await reader.read(
      all.map((p) => p.pack),
      async (pack, offset, length) => bytesOf.get(pack.id)!.slice(offset, offset + length),
      { concurrency: 8, progress: NO_PROGRESS },
    )
    expect(reader.packs).toBe(8)
    expect(taken[0]).toBeLessThanOrEqual(2)
    expect(taken[1]).toBeGreaterThanOrEqual(6)
  })

  it('the lane on this thread reads its pieces into buffers it reuses, and finds a damaged blob in one of them', async () => {
    const all = [...packs().values()]
    const damaged = all[2]!
    const bytesOf = new Map(all.map((p) => [p.pack.id, p.bytes.slice()]))
    const blob = damaged.pack.blobs[5]!
    bytesOf.get(damaged.pack.id)![blob.offset + 20]! ^= 1
    const { verifiers, lanes } = twoLanesRecorded()
    const findings = new FindingCollector()
    const reader = new PackDataReader(verifiers, findings, { memory: MEMORY })
    const given: Uint8Array[] = []
    let readInto = 0
    let readOnLaneHere = 0
    await reader.read(
      all.map((p) => p.pack),
      async (pack, offset, length, _signal, into) => {
        const bytes = bytesOf.get(pack.id)!.subarray(offset, offset + length)
        if (into === undefined) return bytes.slice()
        readOnLaneHere++
        // every other read: a backend that returns a buffer of its own (the reader must not take that one back)
        if (readOnLaneHere % 2 === 0) return bytes.slice()
        expect(into.length).toBeGreaterThanOrEqual(length)
        given.push(into)
        readInto++
        into.set(bytes)
        return into.subarray(0, length)
      },
      { concurrency: 4, progress: NO_PROGRESS },
    )
    expect(reader.packs).toBe(8)
    expect(lanes).toContain(1)
    // pieces read into given buffers, fewer distinct buffers than pieces: they were reused
    expect(readInto).toBeGreaterThan(2)
    expect(new Set(given).size).toBeLessThan(readInto)
    expect(findings.findings.map((f) => [f.kind, f.file?.id, f.blob?.id])).toEqual([
      ['packHashMismatch', damaged.pack.id, undefined],
      ['blobDamaged', damaged.pack.id, blob.id],
    ])
  })

  it('a pack that cannot be read (an error, a short read) is a finding; the others are verified; its memory comes back', async () => {
    const all = packs()
    const [bad, short] = [...all.keys()]
    const t = new Tracker()
    const findings = new FindingCollector()
    const reader = new PackDataReader(t.verifiers(), findings, { memory: MEMORY })
    await reader.read(
      [...all.values()].map((p) => p.pack),
      async (pack, offset, length) => {
        t.add(length)
        const bytes = all.get(pack.id)!.bytes
        if (pack.id === bad && offset > 0 && offset < bytes.length - length) {
          t.add(-length)
          throw new Error('connection reset')
        }
        if (pack.id === short && offset === 0) {
          t.add(-length) // dropped by the reader
          return bytes.slice(offset, offset + length - 1)
        }
        return bytes.slice(offset, offset + length)
      },
      { concurrency: 3, progress: NO_PROGRESS },
    )
    expect(findings.findings.map((f) => [f.kind, f.file?.id, f.message.replace(/^pack \w+ /, '')])).toEqual(
      expect.arrayContaining([
        ['packReadFailed', bad, 'failed to download: connection reset'],
        ['packReadFailed', short, expect.stringMatching(/^failed to download: got \d+ of \d+ bytes at offset 0$/)],
      ]),
    )
    expect(findings.findings).toHaveLength(2)
    expect(reader.packs).toBe(6)
    // (pieces read ahead of a failed one are dropped unverified: the reader's own memory count is the measure)
    expect((reader as unknown as { budgets: ByteBudget[] }).budgets.map((b) => b.inUse)).toEqual([0])
  })

  it('stops with Aborted', async () => {
    const all = packs()
    const ac = new AbortController()
    const reader = new PackDataReader(verifiersHere(key), new FindingCollector(), { memory: MEMORY, signal: ac.signal })
    const read = reader.read(
      [...all.values()].map((p) => p.pack),
      async (pack, offset, length) => {
        ac.abort()
        return all.get(pack.id)!.bytes.slice(offset, offset + length)
      },
      { concurrency: 2, progress: NO_PROGRESS },
    )
    await expect(read).rejects.toMatchObject({ code: 'Aborted' })
  })
})
