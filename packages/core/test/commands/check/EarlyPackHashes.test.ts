import { createHash, randomBytes, type Hash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hashId, MemoryBackend, type Id } from '@rustic-ts/core/internal'
import { EarlyPackHashes, type FileHasher, type PieceHasher } from '../../../src/commands/check/EarlyPackHashes.js'

/** A backend with `n` packs of various sizes named after their hash, one of them damaged (`bad`), one empty. */
async function packs(n: number): Promise<{ backend: MemoryBackend; good: Map<Id, number>; bad: Id }> {
  const backend = new MemoryBackend()
  const good = new Map<Id, number>()
  for (let i = 0; i < n; i++) {
    const bytes = randomBytes(1000 + i * 7777)
    const id = hashId(bytes)
    await backend.writeBytes('pack', id, false, bytes)
    good.set(id, bytes.length)
  }
  const damaged = randomBytes(5000)
  const bad = hashId(damaged)
  damaged[100]! ^= 1
  await backend.writeBytes('pack', bad, false, damaged)
  await backend.writeBytes('pack', hashId(new Uint8Array(0)), false, new Uint8Array(0))
  return { backend, good, bad }
}

/** Hashes on this thread, recording the bytes in flight (given and not answered yet) at most. */
function hasher(): { hash: PieceHasher; most: () => number; lanes: Set<number>; allEnded: () => boolean } {
  const streams = new Map<number, Hash>()
  let inFlight = 0
  let most = 0
  const lanes = new Set<number>()
  const hash: PieceHasher = async (lane, stream, piece, last) => {
    lanes.add(lane)
    inFlight += piece.length
    most = Math.max(most, inFlight)
    await new Promise((r) => setImmediate(r))
    inFlight -= piece.length
    let h = streams.get(stream)
    if (h === undefined) streams.set(stream, (h = createHash('sha256')))
    h.update(piece)
    if (!last) return undefined
    streams.delete(stream)
    return h.digest('hex')
  }
  return { hash, most: () => most, lanes, allEnded: () => streams.size === 0 }
}

describe('EarlyPackHashes', () => {
  it('hashes every pack in pieces within its memory; only the packs whose bytes hash to their id are verified', async () => {
    const { backend, good } = await packs(12)
    const h = hasher()
    const early = new EarlyPackHashes(backend, 2, h.hash, 20_000)
    // (a memory backend answers at once: the hashing is over after a bounded number of turns)
    for (let i = 0; i < 10_000 && early.verified.size < good.size; i++) await new Promise((r) => setImmediate(r))
    expect(new Map(await early.stop())).toEqual(good)
    expect(h.most()).toBeLessThanOrEqual(20_000)
    expect(h.lanes).toEqual(new Set([0, 1]))
    expect(h.allEnded()).toBe(true)
  })

  it('stops reading when told; a pack not read to its end is not verified, and its stream is ended', async () => {
    const { backend, good } = await packs(12)
    const h = hasher()
    let calls = 0
    let stopped: Promise<ReadonlyMap<Id, number>> | undefined
    // stops in the middle of the packs (pieces of 4 KiB: most packs have several)
    const hash: PieceHasher = (lane, stream, piece, last) => {
      if (++calls === 6) stopped = early.stop()
      return h.hash(lane, stream, piece, last)
    }
    const early = new EarlyPackHashes(backend, 1, hash, 8192)
    for (let i = 0; i < 10_000 && stopped === undefined; i++) await new Promise((r) => setImmediate(r))
    const verified = await stopped!
    expect(verified.size).toBeGreaterThan(0)
    expect(verified.size).toBeLessThan(good.size)
    for (const [id, size] of verified) expect(good.get(id)).toBe(size)
    expect(calls).toBeLessThan(10)
    expect(h.allEnded()).toBe(true)
  })

  it('with local files, each pack is hashed from its file (nothing read here); a file that cannot be read gives no shortcut', async () => {
    const { backend, good } = await packs(6)
    const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-early-'))
    try {
      const missing = [...good.keys()][2]!
      for (const [id] of await backend.listWithSize('pack')) if (id !== missing) await writeFile(join(dir, id), await backend.readFull('pack', id))
      const files = {
        listWithSize: backend.listWithSize.bind(backend),
        readPartial: () => Promise.reject(new Error('read from the file')),
        localPath: async (_type: string, id: Id) => join(dir, id),
      }
      const lanes = new Set<number>()
      const hashFile: FileHasher = async (lane, path, size) => {
        lanes.add(lane)
        const bytes = await readFile(path).catch(() => undefined)
        return bytes && bytes.length >= size ? createHash('sha256').update(bytes.subarray(0, size)).digest('hex') : undefined
      }
      const h = hasher()
      const early = new EarlyPackHashes(files, 2, h.hash, 1 << 20, hashFile)
      for (let i = 0; i < 10_000 && early.verified.size < good.size - 1; i++) await new Promise((r) => setImmediate(r))
      const want = new Map(good)
      want.delete(missing)
      expect(new Map(await early.stop())).toEqual(want)
      expect(lanes).toEqual(new Set([0, 1]))
      expect(h.lanes.size).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a backend that cannot list or read gives no shortcut and no error', async () => {
    const { backend } = await packs(3)
    const broken = {
      listWithSize: backend.listWithSize.bind(backend),
      readPartial: () => Promise.reject(new Error('unreachable')),
    }
    const h = hasher()
    expect((await new EarlyPackHashes(broken, 2, h.hash, 1 << 20).stop()).size).toBe(0)
    const unlisted = { listWithSize: () => Promise.reject(new Error('unreachable')), readPartial: broken.readPartial }
    expect((await new EarlyPackHashes(unlisted, 2, h.hash, 1 << 20).stop()).size).toBe(0)
    expect(h.allEnded()).toBe(true)
  })
})
