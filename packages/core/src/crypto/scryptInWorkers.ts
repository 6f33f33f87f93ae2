// Node built-ins and dependency-free files only: the CLI also loads this before its program (see scryptBytes).
import { pbkdf2Sync } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import type { ScryptReply, ScryptWorkerData, ScryptWorkerIn } from '../workers/scrypt.protocol.js'
import { WorkerPool, type PendingJob, type PoolWorker } from '../workers/WorkerPool.js'
import { workerUrl } from '../workers/workerUrl.js'
import type { KdfParams } from './kdf.js'
import { romixWasm } from './scryptRomixWasm.js'

/** The ROMix shift of the lane the calling thread mixes (`mainLane`): a quarter of the lane's memory. */
const MAIN_LANE_SHIFT = 2

/** How {@link scryptInWorkers} mixes the lanes. */
export interface ScryptInWorkersOptions {
  /** Worker threads (at most one per pair of lanes is started). */
  threads: number
  /** The WebAssembly ROMix keeps 1/2^shift of each lane's blocks (default 0: all). */
  shift?: 0 | 1 | 2
  /** The worker program (default the scrypt worker; tests give another). */
  url?: URL
  /**
   * With an odd `p` (3 or more), the calling thread mixes the last lane itself at its next turn (the WebAssembly
   * ROMix keeping a quarter of the lane: ~80 ms for N = 2^15, r = 8, during which that thread does nothing else),
   * so that the workers mix pairs only; where WebAssembly cannot load, a worker takes it.
   */
  mainLane?: boolean
  /**
   * Once the lanes are mixed, one worker's thread is handed to this (before the promise resolves) instead of
   * being ended: idle, its program reusable, for a `WorkerPool` to run another program on
   * (`WorkerPoolOptions.threads`). The receiver ends it.
   */
  keepThread?: (thread: Worker) => void
}

/** A job of a scrypt worker: one lane or two. */
interface LanesJob extends PendingJob {
  readonly lanes: 1 | 2
}

/**
 * The 64 bytes of `scrypt(password, salt, N, r, p)` with its `p` lanes mixed on `threads` worker threads at once
 * (scrypt worker program, `scryptRomix`): B = PBKDF2-HMAC-SHA256(password, salt, 1, p·128·r), each lane
 * of B replaced by its ROMix(N, r) on the workers, two lanes at once (their instructions interleaved,
 * `romixWasmPair`) while two are left, each worker holding its next job while it mixes one (so that it never waits
 * for this thread between jobs), then PBKDF2-HMAC-SHA256(password, B, 1, 64). A worker
 * given a pair holds `2·128·N·r / 2^shift` bytes (one lane's worth if its only job is one lane; `128·N·r`
 * if it falls back to the TypeScript ROMix) while it runs; all are terminated when the lanes are done or
 * one fails.
 * Rejects if a worker cannot start, fails or exits early (the caller then derives another way); it never
 * gives bytes from a lane that was not mixed. The password is copied at once (the caller may clear its own
 * bytes meanwhile, as `node:crypto`'s scrypt allows). See {@link ScryptInWorkersOptions} for the rest.
 */
export function scryptInWorkers(password: Uint8Array, salt: Uint8Array, params: KdfParams, options: ScryptInWorkersOptions): Promise<Buffer> {
  const { threads, shift = 0, url = workerUrl('scrypt'), mainLane = false, keepThread } = options
  const { N, r, p } = params
  const pw = Buffer.from(password)
  const laneBytes = 128 * r
  const shared = new SharedArrayBuffer(p * laneBytes)
  const lanes = new Uint8Array(shared)
  const b = pbkdf2Sync(pw, salt, 1, p * laneBytes, 'sha256')
  lanes.set(b)
  b.fill(0)
  return new Promise<Buffer>((resolve, reject) => {
    let next = 0
    let done = 0
    /** Lanes the workers take: all, or all but the last, which this thread mixes (`mainLane`). */
    let limit = mainLane && p >= 3 && p % 2 === 1 ? p - 1 : p
    let settled = false
    let pool: WorkerPool<ScryptWorkerIn, ScryptReply, LanesJob> | undefined
    const finish = (error: Error | undefined): void => {
      if (settled) return
      settled = true
      // (every lane is mixed: the workers are idle; one is kept, the others end)
      let kept: Worker | undefined
      if (error === undefined && keepThread && pool) for (const w of pool.workers) if ((kept ??= pool.release(w)) !== undefined) break
      void pool?.close()
      if (kept) keepThread!(kept)
      const out = error === undefined ? pbkdf2Sync(pw, lanes, 1, 64, 'sha256') : undefined
      lanes.fill(0)
      pw.fill(0)
      if (out === undefined) reject(error)
      else resolve(out)
    }
    const fail = (error: Error): void => finish(error)
    /** Gives worker `w` the next two lanes (mixed at once), or the last one, if one is left. */
    const feed = (w: PoolWorker<LanesJob, undefined>): void => {
      if (next + 1 < limit) {
        const lane = next
        next += 2
        pool!.request(w, { fail, lanes: 2 }, (id) => ({ id, lane, pair: lane + 1 }))
      } else if (next < limit) {
        const lane = next++
        pool!.request(w, { fail, lanes: 1 }, (id) => ({ id, lane }))
      }
    }
    /** Mixes the last lane on this thread (see `mainLane`); without WebAssembly it goes to the next free worker. */
    const mixLastHere = (): void => {
      if (settled) return
      const mix = romixWasm(N, r, MAIN_LANE_SHIFT)
      if (mix === undefined) {
        limit = p
        // a worker already idle (its pairs done) takes it now; else the next one to finish does
        for (const w of idle) feed(w)
        return
      }
      try {
        mix(new Uint8Array(shared, (p - 1) * laneBytes, laneBytes))
      } catch (err) {
        return finish(err instanceof Error ? err : new Error(String(err)))
      }
      done++
      if (done === p) finish(undefined)
    }
    /** Workers that finished their jobs (none pending) and were given no other. */
    const idle = new Set<PoolWorker<LanesJob, undefined>>()
    const data: ScryptWorkerData = { lanes: shared, N, r, shift }
    try {
      pool = new WorkerPool<ScryptWorkerIn, ScryptReply, LanesJob>({
        name: 'scrypt',
        url,
        size: Math.min(threads, Math.ceil(p / 2)),
        setup: () => ({ workerData: data, state: undefined }),
        onMessage: (w, id) => {
          const mixed = pool!.take(w, id)
          if (mixed === undefined) return finish(new Error(`a scrypt worker answered job ${id}, which it was not given`))
          done += mixed.lanes
          if (done === p) return finish(undefined)
          if (next >= limit && w.jobs.size === 0) idle.add(w)
          feed(w)
        },
        onFailure: (_w, error) => finish(error),
      })
      // each worker gets its next job before it is done with this one (two rounds, so the pairs are spread): it
      // does not wait for this thread to answer (which may be busy, e.g. mixing its own lane or loading the program)
      for (let round = 0; round < 2; round++) for (const w of pool.workers) feed(w)
      if (limit < p) setImmediate(mixLastHere)
    } catch (err) {
      finish(err instanceof Error ? err : new Error(String(err)))
    }
  })
}
