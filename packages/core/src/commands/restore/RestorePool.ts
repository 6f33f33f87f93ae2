import { compress, zstdBuffers, zstdCompressorUnavailable, zstdStoredFrame } from '../../compression/Zstd.js'
import type { Key } from '../../crypto/Key.js'
import { sodiumPoly1305 } from '../../crypto/Poly1305.js'
import { RusticError } from '../../error/RusticError.js'
import { hashId } from '../../id/Id.js'
import type { RestoreBlob, RestoreReply, RestoreRequest, RestoreWorkerData } from '../../workers/restore.protocol.js'
import { workerUrl } from '../../workers/workerUrl.js'
import { WorkerPool, type PendingJob, type PoolWorker } from '../../workers/WorkerPool.js'

/** What a worker did with one pack range. */
export interface PoolResult {
  /** Plaintext bytes written. */
  written: number
  /** The file index of every write done, in order. */
  files: number[]
  /** Files whose metadata was set. */
  metaDone: number[]
  /** Blobs (indexes into the job's `blobs`) whose data is damaged, with the error; nothing of them was written. */
  damaged: Array<{ blob: number; error: RusticError }>
  /** The problem that stopped the range (what is above was done before it); the caller raises it. */
  error?: RusticError
  /** Bytes read from the pack file (a job given a local `file`). */
  read: number
  /** A job given a local `file`: the first blob that could not be read from it (it and those after it were not done). */
  unreadFrom?: number
}

/** A worker's (or a `RangeRestorer`'s) reply as a {@link PoolResult}, its errors as `RusticError`s. */
export function poolResult(m: RestoreReply): PoolResult {
  const result: PoolResult = {
    written: m.written,
    files: m.files,
    metaDone: m.metaDone,
    damaged: m.damaged.map((d) => ({ blob: d.blob, error: new RusticError(d.error.kind, d.error.message, { code: d.error.code }) })),
    read: m.read ?? 0,
  }
  if (m.unreadFrom !== undefined) result.unreadFrom = m.unreadFrom
  if (m.failure) result.error = new RusticError(m.failure.kind, m.failure.message, { code: m.failure.code })
  return result
}

interface RestoreJob extends PendingJob {
  done(reply: RestoreReply): void
}

/**
 * Worker threads (`workers/restore.worker.ts`) that open blobs of pack ranges (MAC check, decrypt,
 * decompress, id check) and write them into the restored files, so that restore uses every core. Falls
 * back (returns `undefined` from {@link RestorePool.start}) when the native modules cannot be loaded or
 * the self-test fails.
 */
export class RestorePool {
  private constructor(private readonly pool: WorkerPool<RestoreRequest, RestoreReply, RestoreJob>) {}

  /** Starts `n` workers for `key`; `undefined` if that is not possible here. */
  static async start(key: Key, n: number): Promise<RestorePool | undefined> {
    const zstd = zstdBuffers()
    if (sodiumPoly1305() === undefined || zstd === undefined) return undefined
    const pool = new WorkerPool<RestoreRequest, RestoreReply, RestoreJob>({
      name: 'restore',
      url: workerUrl('restore'),
      size: n,
      setup: () => ({ workerData: { key: key.toMasterKeyJson(), zstd: zstd.name } satisfies RestoreWorkerData, state: undefined }),
      onMessage: (w, m) => pool.take(w, m.id)?.done(m),
      exposeGc: true,
    })
    const restorePool = new RestorePool(pool)
    // self-test: a plain and a compressed blob sealed with the key must open to their ids
    const probe = new TextEncoder().encode('rustic-ts restore pool self-test '.repeat(8))
    const id = hashId(probe)
    const plainSealed = key.encrypt(probe)
    // (a stored frame where nothing here compresses: the workers decompress with fzstd then)
    const zSealed = key.encrypt(zstdCompressorUnavailable() === undefined ? compress(probe, 3) : zstdStoredFrame(probe))
    const data = new Uint8Array(plainSealed.length + zSealed.length)
    data.set(plainSealed, 0)
    data.set(zSealed, plainSealed.length)
    const blobs: RestoreBlob[] = [
      { id, start: 0, length: plainSealed.length, dataLength: probe.length, targets: [] },
      { id, start: plainSealed.length, length: zSealed.length, uncompressedLength: probe.length, dataLength: probe.length, targets: [] },
    ]
    const passed = await pool.selfTest(async (w) => {
      const r = await restorePool.runOn(w, Uint8Array.prototype.slice.call(data), blobs, true, 'self-test')
      if (r.error) throw r.error
      if (r.damaged.length > 0) throw r.damaged[0]!.error
    })
    return passed ? restorePool : undefined
  }

  /** Number of worker threads. */
  get size(): number {
    return this.pool.size
  }

  /**
   * Opens the blobs of a pack range and writes them on the least busy worker. `data` (the sealed range)
   * is transferred to the worker when it owns its whole buffer, else copied; with `giveBack`, a range in a
   * `SharedArrayBuffer` is shared instead, and the caller may reuse its memory once the promise settles. A blob whose data is damaged
   * is skipped and listed in the result's `damaged`; another problem (a write failing) comes back as the
   * result's `error` (naming the blob, pack or file), with what was done before it; the promise rejects
   * only if the worker fails. With `file`, `data` is empty and the worker reads the range from that local
   * pack file itself (see `RestoreRequest.file`).
   */
  run(data: Uint8Array, blobs: RestoreBlob[], verify: boolean, what: string, giveBack = false, file?: RestoreRequest['file']): Promise<PoolResult> {
    return this.runOn(this.pool.leastBusy(), data, blobs, verify, what, giveBack, file)
  }

  /** True while every worker has a job (the caller may then do one itself: see `RangeRestorer`). */
  get allBusy(): boolean {
    return this.pool.pending >= this.pool.size
  }

  /** Ends the workers; pending jobs fail. */
  close(): Promise<void> {
    return this.pool.close()
  }

  private runOn(
    w: PoolWorker<RestoreJob, undefined>,
    data: Uint8Array,
    blobs: RestoreBlob[],
    verify: boolean,
    what: string,
    giveBack = false,
    file?: RestoreRequest['file'],
  ): Promise<PoolResult> {
    // shared memory (`giveBack`) goes as it is: the worker works in it and leaves it to the caller
    const shared = giveBack && data.buffer instanceof SharedArrayBuffer
    const own = shared || (data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength)
    const payload = own ? data : Uint8Array.prototype.slice.call(data)
    return new Promise<PoolResult>((resolve, reject) => {
      const job: RestoreJob = {
        fail: reject,
        done: (m) => resolve(poolResult(m)),
      }
      const m = (id: number): RestoreRequest => (file ? { id, data: payload, blobs, verify, what, shared, file } : { id, data: payload, blobs, verify, what, shared })
      this.pool.request(w, job, m, shared || file ? [] : [payload.buffer as ArrayBuffer])
    })
  }
}
