import { availableParallelism } from 'node:os'
import type { DecryptBackend } from '../backend/DecryptBackend.js'
import type { Chunker } from '../chunker/Chunker.js'
import { decompress, zstdBuffers } from '../compression/Zstd.js'
import type { Key } from '../crypto/Key.js'
import { sodiumPoly1305 } from '../crypto/Poly1305.js'
import { RusticError, toErrorCode } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { ChunkQuery, ParentChunks, SealedReply, SealWorkerData, SealWorkerOut, StoredChunks } from '../workers/seal.protocol.js'
import { workerUrl } from '../workers/workerUrl.js'
import { WorkerPool } from '../workers/WorkerPool.js'
import { ANSWERS_AHEAD, FileDistributor } from './FileDistributor.js'
import { BATCH_BLOB_LIMIT, SealBatcher } from './SealBatcher.js'
import { SealedSlots } from './SealedSlots.js'
import type { SealWorker, SealWorkers } from './sealWorkers.js'

/** A sealed blob: stored bytes, and the uncompressed length when compressed. */
export interface SealedBlob {
  /** `IV || ciphertext || MAC` of the (possibly compressed) blob. */
  sealed: Uint8Array
  /** The plaintext length, set only when the blob was compressed. */
  uncompressedLength?: number
}

/**
 * Where {@link SealPool.storeFile} puts new blobs (a `Packer`): it decides which chunks are new and takes
 * them once sealed.
 */
export interface BlobSink {
  /** True if blob `id` is new: it is then reserved, and the pool hands it to `addClaimed` once sealed. */
  claim(id: Id): boolean
  /**
   * Takes a blob reserved by `claim`, sealed; `uncompressedLength` is set when it is compressed. The sink
   * must call `done` once it no longer needs `sealed` (copy it to keep it): a worker seals into a few buffers
   * and waits for them to come back.
   */
  addClaimed(id: Id, sealed: Uint8Array, uncompressedLength: number | undefined, dataLength: number, done: () => void): void
}

/** What {@link SealPool.storeFile} gives: the file's content (its chunks' ids, in order) and its size as read. */
export interface StoredFile {
  content: Id[]
  size: number
}

/** Options of {@link SealPool.start}. */
export interface SealPoolOptions {
  /** Number of worker threads, at most; default: the number of cores (at most 8). */
  workers?: number
  /**
   * Number of workers started at once (default: all); {@link SealPool.grow} starts the others once files wait
   * for them. A backup with a parent snapshot starts one: its new data (an incremental backup's) often needs no more.
   */
  initialWorkers?: number
  /** Lets the workers store whole files ({@link SealPool.storeFile}), cutting them as this chunker does. */
  chunker?: Chunker
}

/**
 * Seals blobs (compress + encrypt, exactly as `DecryptBackend.sealBlob`) on worker threads
 * (`workers/seal.worker.ts`), so that the main thread is not busy compressing; with a chunker, the workers
 * also read, cut and hash whole files ({@link SealPool.storeFile}). The pool holds a copy of the master key
 * in its workers' memory; {@link SealPool.close} ends them.
 */
export class SealPool {
  private readonly workers: SealWorkers
  private readonly batcher: SealBatcher
  private readonly files: FileDistributor
  private sink: BlobSink | undefined
  private drainWaiters: Array<() => void> = []
  /** A worker is being started by {@link SealPool.grow}. */
  private growing = false
  /** A worker started by {@link SealPool.grow} failed its self-test: no more are started. */
  private growFailed = false
  /** True if the workers can store whole files (they were given a chunker). */
  readonly canStoreFiles: boolean

  private constructor(
    private readonly key: Key,
    /** zstd level, or undefined for no compression. */
    readonly compressionLevel: number | undefined,
    /** The zstd provider the workers compress with (the one in use on this thread when the pool started). */
    private readonly zstd: string,
    chunker: Chunker | undefined,
    /** Worker threads at most. */
    private readonly maxSize: number,
    initial: number,
  ) {
    const slotSizes = SealedSlots.sizesFor(chunker?.options.maxSize)
    this.canStoreFiles = chunker !== undefined
    this.workers = new WorkerPool({
      name: 'seal',
      url: workerUrl('seal'),
      size: maxSize,
      initial,
      exposeGc: true,
      setup: () => {
        const slots = new SealedSlots(slotSizes)
        const workerData: SealWorkerData = {
          key: key.toMasterKeyJson(),
          level: compressionLevel ?? null,
          zstd,
          chunker: chunker ? { pol: chunker.pol, options: chunker.options } : null,
          outMem: slots.memory,
          outSizes: slotSizes,
        }
        return { workerData, state: { slots, fileBytes: 0 } }
      },
      onMessage: (w, m) => this.receive(w, m),
      onFailure: () => {
        this.wakeDrain()
        this.files.flush() // queued files go to the other workers (or fail when none is left)
      },
      busy: (w) => w.state.slots.outstanding > 0,
    })
    this.batcher = new SealBatcher((data, lengths, done, fail) => this.post(this.workers.leastBusy(), data, lengths, done, fail))
    this.files = new FileDistributor(this.workers, () => this.grow())
  }

  /** True if this pool seals exactly as `dbe.sealBlob` does (same key, same compression, same zstd provider). */
  matches(dbe: DecryptBackend): boolean {
    return this.key.equals(dbe.key) && this.compressionLevel === blobCompressionLevel(dbe) && this.zstd === zstdBuffers()?.name
  }

  /**
   * Starts a pool that seals blobs for `dbe` (its key; its compression in a v2 repository, none in v1).
   * The workers compress with the zstd provider in use here (`zstd-napi` in their own buffers, another
   * built-in one with a copy). Returns undefined where they cannot: without sodium-native, or when the
   * provider in use is not a built-in one (see `setZstdProvider`).
   */
  static async start(dbe: DecryptBackend, options: SealPoolOptions = {}): Promise<SealPool | undefined> {
    const zstd = zstdBuffers()
    if (sodiumPoly1305() === undefined || zstd === undefined) return undefined
    const key = dbe.key
    const compressionLevel = blobCompressionLevel(dbe)
    const n = Math.max(1, options.workers ?? Math.min(8, availableParallelism()))
    const pool = new SealPool(key, compressionLevel, zstd.name, options.chunker, n, Math.max(1, Math.min(n, options.initialWorkers ?? n)))
    const passed = await pool.workers.selfTest((w) => pool.selfTest(w))
    return passed ? pool : undefined
  }

  /** Number of worker threads (so far: see {@link SealPool.grow}). */
  get size(): number {
    return this.workers.size
  }

  /**
   * Starts another worker if the pool has fewer than it may have and none is starting: called when files wait
   * for the workers (queued here, or held back by the caller). The worker takes work once it passed the
   * self-test; a worker that fails it is ended, and the pool goes on with the ones it has (and starts no more).
   */
  grow(): void {
    if (this.growing || this.growFailed || this.workers.closed || this.workers.size >= this.maxSize) return
    this.growing = true
    void this.workers.grow((w) => this.selfTest(w)).then((w) => {
      this.growing = false
      if (w) this.files.flush()
      else this.growFailed = true
    })
  }

  /** What worker `w` seals must open with the key, as the original. */
  private async selfTest(w: SealWorker): Promise<void> {
    const probe = new TextEncoder().encode('rustic-ts seal pool self-test '.repeat(8))
    const s = await this.sealOn(w, probe)
    let plain = this.key.decrypt(s.sealed, 'seal pool self-test')
    if (s.uncompressedLength !== undefined) plain = decompress(plain, 'seal pool self-test', s.uncompressedLength)
    if (Buffer.compare(plain, probe) !== 0 || (this.compressionLevel === undefined) !== (s.uncompressedLength === undefined)) {
      throw new Error('sealed data differs')
    }
  }

  /** Jobs handed to the workers and not yet done. */
  get pending(): number {
    return this.workers.pending
  }

  /**
   * Seals a blob on the least busy worker (small ones in batches). `plain` is copied before this returns,
   * so the caller may reuse it. An empty blob is not compressed (a zero uncompressed length means "not
   * compressed").
   */
  seal(plain: Uint8Array): Promise<SealedBlob> {
    return plain.length >= BATCH_BLOB_LIMIT ? this.sealOn(this.workers.leastBusy(), plain) : this.batcher.add(plain)
  }

  /**
   * Stores a local file on a worker: the worker reads it (never through a symlink), cuts it with the
   * pool's chunker, hashes the chunks, asks `sink` which are new and seals those into `sink`. Resolves
   * with the file's content once every chunk is either known to `sink` or claimed by it (the claimed ones
   * reach `sink.addClaimed` later: see {@link SealPool.drain}). A file that cannot be read rejects with an
   * `InputOutput` error naming the path. One pool stores files for one sink.
   *
   * `parent`: the file's chunks in the parent snapshot, which `sink` holds and never claims (see `ParentChunks`):
   * the worker asks about them without keeping their bytes, and takes the leading ones without cutting while
   * the file's bytes hash to them.
   */
  storeFile(path: string | Uint8Array, expectedSize: number, sink: BlobSink, parent?: ParentChunks): Promise<StoredFile> {
    if (!this.canStoreFiles) return Promise.reject(new RusticError('Internal', 'this seal pool was started without a chunker'))
    if ((this.sink ??= sink) !== sink) return Promise.reject(new RusticError('Internal', 'a seal pool stores files for one sink only'))
    return new Promise<StoredFile>((resolve, reject) => {
      const bytes = typeof path === 'string' ? Buffer.from(path) : path
      const shown = (): string => (typeof path === 'string' ? path : Buffer.from(path).toString('utf8'))
      this.files.add(bytes, expectedSize, {
        kind: 'file',
        bytes: expectedSize,
        fail: reject,
        done: (r) => {
          if ('error' in r) return reject(new RusticError('InputOutput', `cannot read ${shown()}: ${r.error}`, { code: toErrorCode(r.code, 'ReadFailed') }))
          resolve({ content: r.content, size: r.size })
        },
      }, parent)
    })
  }

  /** Resolves once every blob claimed for {@link SealPool.storeFile} has reached the sink; rejects if a worker failed. */
  drain(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const failure = this.workers.failure
        if (failure) return reject(this.workers.failedError(failure))
        if (this.workers.closed) return reject(this.workers.closedError())
        if (this.workers.workers.every((w) => w.state.slots.outstanding === 0)) return resolve()
        this.drainWaiters.push(check)
      }
      check()
    })
  }

  /** Ends the workers; pending jobs fail. */
  async close(): Promise<void> {
    if (this.workers.closed) return
    const error = this.workers.closedError()
    this.batcher.fail(error)
    this.files.fail(error)
    await this.workers.close()
    this.wakeDrain()
  }

  private sealOn(w: SealWorker, plain: Uint8Array): Promise<SealedBlob> {
    const copy = Uint8Array.prototype.slice.call(plain) // own ArrayBuffer: transferred, not cloned with its neighbours
    return new Promise<SealedBlob>((resolve, reject) => {
      this.post(w, copy, [copy.length], (m) => {
        const ul = m.uls[0]!
        resolve(ul < 0 ? { sealed: m.sealed } : { sealed: m.sealed, uncompressedLength: ul })
      }, reject)
    })
  }

  /** Sends blobs (`data`, its buffer transferred) to a worker to be sealed. */
  private post(w: SealWorker, data: Uint8Array, lengths: number[], done: (m: SealedReply) => void, fail: (e: RusticError) => void): void {
    this.workers.request(w, { kind: 'seal', done, fail }, (id) => ({ type: 'seal', id, data, lengths }), [data.buffer as ArrayBuffer])
  }

  private receive(w: SealWorker, m: SealWorkerOut): void {
    switch (m.type) {
      case 'query':
        return this.answer(w, m)
      case 'stored':
        return this.takeStored(w, m)
      case 'sealed': {
        const job = this.workers.take(w, m.id)
        if (job?.kind === 'seal') job.done(m)
        return
      }
      case 'sealFailed':
        return this.workers.take(w, m.id)?.fail(new RusticError('Internal', `sealing a blob failed: ${m.message}`))
    }
  }

  /** Claims the new chunks of a query, answers it, then settles the files reported with it. */
  private answer(w: SealWorker, m: ChunkQuery): void {
    if (m.query >= 0) {
      const sink = this.sink!
      let claims = ''
      let any = false
      for (const id of m.ids) {
        const claimed = sink.claim(id)
        claims += claimed ? '1' : '0'
        any ||= claimed
      }
      if (any) w.state.slots.outstanding++
      this.workers.post(w, { type: 'answer', query: m.query, claims })
    }
    for (const f of m.files) {
      const job = this.workers.take(w, f.id)
      if (job?.kind !== 'file') continue
      this.files.done(w, job)
      job.done(f)
    }
    if (m.files.length > 0) this.files.flush()
    this.workers.updateRef(w)
  }

  /** Sealed chunks are in: to the sink, and the slot back to the worker once the sink is done with them. */
  private takeStored(w: SealWorker, m: StoredChunks): void {
    const last = w.state.slots.deliver(m, this.sink!, () => this.workers.post(w, { type: 'recycle', slot: m.slot }))
    if (last && w.state.slots.outstanding === ANSWERS_AHEAD - 1) this.files.flush()
    this.workers.updateRef(w)
    this.wakeDrain()
  }

  private wakeDrain(): void {
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const f of waiters) f()
  }
}

/** The zstd level `dbe.sealBlob` compresses blobs with, or undefined when it does not compress (throws as it does). */
function blobCompressionLevel(dbe: DecryptBackend): number | undefined {
  return dbe.writeCompressionLevel()
}
