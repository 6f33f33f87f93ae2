import { describe, expect, it } from 'vitest'
import { FileDistributor } from '../../src/blob/FileDistributor.js'
import type { FileJob, SealWorker, SealWorkers } from '../../src/blob/sealWorkers.js'
import type { SealWorkerIn, StoreFilesRequest } from '../../src/workers/seal.protocol.js'

/** `n` fake seal workers that record the messages sent to them. */
function fakeWorkers(n: number): { pool: SealWorkers; sent: Array<{ worker: number; m: StoreFilesRequest }> } {
  const sent: Array<{ worker: number; m: StoreFilesRequest }> = []
  let seq = 0
  const workers = Array.from({ length: n }, (_, index) => ({ index, dead: undefined, state: { slots: { outstanding: 0 }, fileBytes: 0 } }))
  const pool = {
    workers,
    closed: false,
    add: () => seq++,
    post: (w: SealWorker, m: SealWorkerIn) => sent.push({ worker: w.index, m: m as StoreFilesRequest }),
  } as unknown as SealWorkers
  return { pool, sent }
}

const job = (bytes: number): FileJob => ({ kind: 'file', bytes, done: () => {}, fail: () => {} })

describe('FileDistributor', () => {
  it('sends many small files in few messages, and workers with as much to go take turns', () => {
    const { pool, sent } = fakeWorkers(2)
    const files = new FileDistributor(pool)
    for (let i = 0; i < 600; i++) files.add(Buffer.from(`/d/f${i}`), 0, job(0))
    files.flush()
    expect(sent.length).toBeLessThanOrEqual(6)
    expect(sent.reduce((n, s) => n + s.m.ids.length, 0)).toBe(600)
    // empty files count no bytes: without turns, every message would go to the first worker
    expect(new Set(sent.map((s) => s.worker))).toEqual(new Set([0, 1]))
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.worker).not.toBe(sent[i - 1]!.worker)
    // the paths arrive in order, each ending where `ends` says
    const first = sent[0]!.m
    expect(Buffer.from(first.paths.subarray(0, first.ends[0])).toString()).toBe('/d/f0')
  })

  it('asks the pool to grow when more than 8 MiB wait unsent; bytes only hashed (parent chunks) count an eighth', () => {
    const { pool, sent } = fakeWorkers(1)
    let grows = 0
    const files = new FileDistributor(pool, () => grows++)
    const MiB = 1 << 20
    // the first file goes at once, whatever its size; the next ones wait behind it
    files.add(Buffer.from('/first'), 100 * MiB, job(100 * MiB))
    // 48 of its 50 MiB as in the parent (the last of the parent's chunks is never taken uncut): 2 + 48 / 8 = 8 MiB
    const parent = { ids: [], lengths: [16 * MiB, 16 * MiB, 16 * MiB, 2 * MiB], leading: 3 } as never
    files.add(Buffer.from('/log'), 50 * MiB, job(50 * MiB), parent)
    files.flush()
    expect(sent.length).toBe(1)
    expect(grows).toBe(0)
    files.add(Buffer.from('/small'), 4096, job(4096))
    files.flush()
    expect(grows).toBe(1)
    // once sent, files no longer count as waiting: 4 KiB + 6 MiB wait now
    pool.workers[0]!.state.fileBytes = 0
    files.flush()
    expect(sent.length).toBe(2)
    files.add(Buffer.from('/more'), 6 * MiB, job(6 * MiB))
    files.flush()
    expect(grows).toBe(1)
  })
})
