import type { TransferListItem, Worker as Thread } from 'node:worker_threads'
import { compress, zstdCompressorUnavailable, zstdStoredFrame } from '../../compression/Zstd.js'
import type { Key } from '../../crypto/Key.js'
import { sodiumPoly1305 } from '../../crypto/Poly1305.js'
import { RusticError } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import type { IndexBlob } from '../../repofile/IndexFile.js'
import { serializePackHeader, type PackBlob } from '../../repofile/PackHeader.js'
import type { VerifyReply, VerifyWorkerData, VerifyWorkerIn } from '../../workers/verify.protocol.js'
import { workerUrl } from '../../workers/workerUrl.js'
import { WorkerPool, type PendingJob, type PoolWorker } from '../../workers/WorkerPool.js'
import type { PackStream, PackVerifiers } from './PackVerifiers.js'
import type { PackPart, PackVerification } from './PackVerifier.js'
import { planPackReads, type PackReadPlan } from './planPackReads.js'

interface VerifyJob extends PendingJob {
  done(reply: VerifyReply): void
}

type Worker = PoolWorker<VerifyJob, undefined>

type Pool = WorkerPool<VerifyWorkerIn, VerifyReply, VerifyJob>

/** Starts `n` verify workers with `key` (the first on `threads`); `undefined` if worker threads cannot start here. */
function launch(n: number, key: Key, threads: readonly Thread[]): Pool | undefined {
  try {
    const pool: Pool = new WorkerPool<VerifyWorkerIn, VerifyReply, VerifyJob>({
      name: 'verify',
      url: workerUrl('verify'),
      size: n,
      threads,
      setup: () => ({ workerData: { key: key.toMasterKeyJson() } satisfies VerifyWorkerData, state: undefined }),
      onMessage: (w, m) => pool.take(w, m.id)?.done(m),
    })
    return pool
  } catch {
    return undefined
  }
}

/** Sends worker `w` of `pool` a job; resolves with its answer (rejects if the worker failed or could not do it). */
function ask(pool: Pool, w: Worker, message: (id: number) => VerifyWorkerIn, transfer?: readonly TransferListItem[]): Promise<VerifyReply> {
  return new Promise<VerifyReply>((resolve, reject) => {
    const job: VerifyJob = {
      fail: reject,
      done: (m) => (m.error === undefined ? resolve(m) : reject(new RusticError('Internal', `a verify worker failed: ${m.error}`))),
    }
    pool.request(w, job, message, transfer)
  })
}

/** True if `data` is the whole of an `ArrayBuffer` (so it can be transferred without taking other bytes along). */
function whole(data: Uint8Array): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer
}

/**
 * Worker threads (`workers/verify.worker.ts`) that verify packs for `check --read-data` as they are read, in
 * pieces: each pack goes to one worker, its pieces are transferred (not copied) and each is answered once
 * verified, so the caller can bound the bytes in flight. Falls back (returns `undefined` from
 * {@link VerifyPool.start}) when sodium-native cannot be loaded or the self-test fails. Without zstd-napi
 * the workers decompress each compressed blob whole, with the zstd provider in use.
 */
export class VerifyPool implements PackVerifiers {
  private streams = 0
  /** Tickets of file jobs (see {@link VerifyPool.verifyFile}). */
  private tickets = 0

  private constructor(private readonly pool: Pool) {}

  /**
   * Starts `n` workers for `key`; `undefined` if that is not possible here. The first run on `threads` (idle
   * threads of a reusable worker program, see `WorkerPoolOptions.threads`) instead of new threads; the pool owns
   * those, and the caller ends those beyond `n`; if it cannot start, they are ended.
   * @param onLaunch - called at once with the pool when its workers are launched, before their self-test: jobs
   *   may be sent to it from then on (they wait for the workers to load; they fail if the self-test fails).
   */
  static async start(key: Key, n: number, threads: readonly Thread[] = [], onLaunch?: (pool: VerifyPool) => void): Promise<VerifyPool | undefined> {
    const mine = threads.slice(0, n)
    const pool = n < 1 || sodiumPoly1305() === undefined ? undefined : launch(n, key, mine)
    if (pool === undefined) {
      for (const thread of mine) void thread.terminate()
      return undefined
    }
    const verifyPool = new VerifyPool(pool)
    onLaunch?.(verifyPool)
    // self-test: a pack of a plain and a compressed blob sealed with the key, in two pieces, must verify
    const probe = new TextEncoder().encode('rustic-ts verify pool self-test '.repeat(8))
    const id = hashId(probe)
    // (a stored frame where nothing here compresses)
    const sealed = [key.encrypt(probe), key.encrypt(zstdCompressorUnavailable() === undefined ? compress(probe, 3) : zstdStoredFrame(probe))]
    const blobs: IndexBlob[] = [
      { type: 'data', id, offset: 0, length: sealed[0]!.length },
      { type: 'data', id, offset: sealed[0]!.length, length: sealed[1]!.length, uncompressedLength: probe.length },
    ]
    const header = key.encrypt(serializePackHeader(blobs))
    const length = new Uint8Array(4)
    new DataView(length.buffer).setUint32(0, header.length, true)
    const pack = Buffer.concat([...sealed, header, length])
    const packId = hashId(pack)
    const passed = await pool.selfTest(async (w) => {
      // all four messages go at once (the worker takes them in order): one round trip, so the test is done
      // as soon as this thread, busy reading the index meanwhile, next looks at the worker's answers
      const { tailStart } = planPackReads(pack.length, blobs, Infinity)
      const stream = verifyPool.streams++
      const copy = (from: number, to: number): Uint8Array => Uint8Array.prototype.slice.call(pack, from, to)
      const send = (message: (id: number) => VerifyWorkerIn, data?: Uint8Array): Promise<VerifyReply> =>
        verifyPool.ask(w, message, data ? [data.buffer as ArrayBuffer] : [])
      const tail = copy(tailStart, pack.length)
      const first = copy(0, blobs[1]!.offset)
      const second = copy(blobs[1]!.offset, tailStart)
      const replies = [
        send((id) => ({ type: 'begin', id, stream, packId, size: pack.length, blobs, tailStart, tail }), tail),
        send((id) => ({ type: 'piece', id, stream, data: first }), first),
        send((id) => ({ type: 'piece', id, stream, data: second }), second),
        send((id) => ({ type: 'end', id, stream })),
      ]
      const v = (await Promise.all(replies))[3]!.verification as PackVerification
      if (v.problems.length > 0 || v.blobsVerified !== 2) throw new Error(`self-test: ${JSON.stringify(v)}`)
    })
    return passed ? verifyPool : undefined
  }

  /** Number of worker threads. */
  get size(): number {
    return this.pool.size
  }

  /** One lane per worker. */
  get lanes(): number {
    return this.pool.size
  }

  /** Starts a pack on worker `lane` if it runs, else on the least busy worker (see {@link PackVerifiers.begin}). */
  begin(
    packId: Id,
    size: number,
    blobs: IndexBlob[],
    tailStart: number,
    tail: Uint8Array,
    shared?: boolean,
    lane?: number,
    part?: PackPart,
    _verified?: unknown,
    hashed?: boolean,
  ): PackStream {
    const w = this.laneWorker(lane)
    const stream = this.streams++
    const t = this.movable(tail, shared)
    const begin = (id: number): VerifyWorkerIn => ({ type: 'begin', id, stream, packId, size, blobs, tailStart, tail: t, ...(part ? { part } : {}), ...(hashed ? { hashed } : {}) })
    const begun = this.ask(w, begin, [t.buffer as ArrayBuffer])
    begun.catch(() => {})
    return {
      push: (piece, sharedPiece) => {
        const data = this.movable(piece, sharedPiece)
        return this.ask(w, (id) => ({ type: 'piece', id, stream, data }), [data.buffer as ArrayBuffer]).then(() => {})
      },
      end: async () => {
        await begun
        const reply = await this.ask(w, (id) => ({ type: 'end', id, stream }))
        return reply.verification as PackVerification
      },
      drop: () => this.pool.post(w, { type: 'drop', stream }),
    }
  }

  /** Has worker `lane` read pack `packId` from the local file `path` itself and verify it (see {@link PackVerifiers.verifyFile}). */
  async verifyFile(
    lane: number,
    path: string,
    packId: Id,
    size: number,
    blobs: IndexBlob[],
    plan: PackReadPlan,
    withdraw?: AbortSignal,
    part?: PackPart,
    hashed?: boolean,
  ): Promise<PackVerification | undefined> {
    if (withdraw?.aborted) return undefined
    const w = this.laneWorker(lane)
    const ticket = this.tickets++
    const onWithdraw = (): void => this.pool.post(w, { type: 'withdraw', ticket })
    withdraw?.addEventListener('abort', onWithdraw, { once: true })
    const reply = await this.ask(w, (id) => ({
      type: 'file',
      id,
      ticket,
      path,
      packId,
      size,
      blobs,
      tailStart: plan.tailStart,
      pieces: plan.pieces,
      ...(part ? { part } : {}),
      ...(hashed ? { hashed } : {}),
    })).finally(() => withdraw?.removeEventListener('abort', onWithdraw))
    return reply.readError === undefined && !reply.withdrawn ? (reply.verification as PackVerification) : undefined
  }

  /**
   * Has worker `lane` verify pack `packId` of `size` bytes from the local file `path` by the pack's own header,
   * read in pieces of about `pieceBytes` (see `VerifyHead`): what it found and the header's entries it was
   * verified with, or `undefined` if the header could not be read or lists tree blobs, or the file could not be
   * read. Rejects if the worker failed or the pool is closed.
   */
  async verifyHead(lane: number, path: string, packId: Id, size: number, pieceBytes: number): Promise<{ verification: PackVerification; head: PackBlob[] } | undefined> {
    const reply = await this.ask(this.pool.workers[lane] ?? this.pool.leastBusy(), (id) => ({ type: 'head', id, path, packId, size, pieceBytes }))
    return reply.verification && reply.head ? { verification: reply.verification, head: reply.head } : undefined
  }

  /** Ends the workers; pending jobs fail. */
  async close(): Promise<void> {
    await this.pool.close()
  }

  /** Worker `lane` if it runs, else the least busy one. */
  private laneWorker(lane: number | undefined): Worker {
    const w = lane === undefined ? undefined : this.pool.workers[lane]
    return w && !w.dead ? w : this.pool.leastBusy()
  }

  /** `data` itself if it may be transferred, else a copy that may. */
  private movable(data: Uint8Array, shared: boolean | undefined): Uint8Array {
    return !shared && whole(data) ? data : Uint8Array.prototype.slice.call(data)
  }

  private ask(w: Worker, message: (id: number) => VerifyWorkerIn, transfer?: readonly TransferListItem[]): Promise<VerifyReply> {
    return ask(this.pool, w, message, transfer)
  }
}
