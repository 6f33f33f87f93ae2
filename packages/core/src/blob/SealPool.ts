import { availableParallelism } from 'node:os'
import type { DecryptBackend } from '../backend/DecryptBackend.js'
import type { Chunker } from '../chunker/Chunker.js'
import { decompress, nativeZstdBuffers } from '../compression/Zstd.js'
import type { Key } from '../crypto/Key.js'
import { sodiumPoly1305 } from '../crypto/Poly1305.js'
import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { ChunkQuery, FileReport, SealedReply, SealWorkerData, SealWorkerIn, SealWorkerOut, StoredChunks } from '../workers/seal.protocol.js'
import { workerUrl } from '../workers/workerUrl.js'
import { WorkerPool, type PoolWorker } from '../workers/WorkerPool.js'

/** A sealed blob: stored bytes, and the uncompressed length when compressed. */
export interface SealedBlob {
  /** `IV || ciphertext || MAC` of the (possibly compressed) blob. */
  sealed: Uint8Array
  /** The plaintext length, set only when the blob was compressed. */
  uncompressedLength?: number
}

/** A job on a seal worker: sealing blobs, or storing a file. */
type SealJob =
  | { kind: 'seal'; done(m: SealedReply): void; fail(e: RusticError): void }
  | { kind: 'file'; done(r: FileReport): void; fail(e: RusticError): void; bytes: number }

/** What the pool keeps for each worker. */
interface WorkerState {
  /** Answers with claimed chunks whose sealed blobs have not come back yet. */
  outstanding: number
  /** Expected bytes of the files handed to this worker and not yet done. */
  fileBytes: number
  /** Where the worker puts sealed batches of files' chunks: slots of `outSize` bytes. */
  outMem: SharedArrayBuffer
  outSize: number
}

type SealWorker = PoolWorker<SealJob, WorkerState>

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

/** Blobs smaller than this are sent to the workers in batches. */
const BATCH_BLOB_LIMIT = 64 * 1024
/** A batch is sent once it holds this many bytes or blobs (or at the end of the current turn of the event loop). */
const BATCH_BYTES = 1 << 20
const BATCH_COUNT = 512
/** Files sent to a worker in one message at most. */
const FILE_BATCH_COUNT = 16
/** A worker is given more files while the files it has to go are expected to be smaller than this. */
const FILE_BYTES_AHEAD = 4 << 20
/**
 * A worker is given more files only while fewer of its answered queries than this wait to come back sealed:
 * a worker seals into a few reused buffers, so a packer that writes slowly holds back reading too.
 */
const ANSWERS_AHEAD = 4
/**
 * Slots a worker seals files' chunks into, in memory shared with the pool: a slot is filled again once the
 * sink is done with its blobs, so that sealed data never piles up (nor comes and goes as garbage).
 */
const OUT_SLOTS = 2

/** Options of {@link SealPool.start}. */
export interface SealPoolOptions {
  /** Number of worker threads; default: the number of cores (at most 8). */
  workers?: number
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
  private readonly pool: WorkerPool<SealWorkerIn, SealWorkerOut, SealJob, WorkerState>
  private batch: Array<{ plain: Uint8Array; resolve: (s: SealedBlob) => void; reject: (e: unknown) => void }> = []
  private batchBytes = 0
  private batchScheduled = false
  private sink: BlobSink | undefined
  private fileBatch: Array<{ path: Uint8Array; expected: number; job: SealJob }> = []
  private fileBatchScheduled = false
  private drainWaiters: Array<() => void> = []

  private constructor(
    private readonly key: Key,
    /** zstd level, or undefined for no compression. */
    readonly compressionLevel: number | undefined,
    chunker: Chunker | undefined,
    size: number,
  ) {
    // a file worker's sealed batches: slots for the largest chunk, compressed (zstd's bound) and sealed
    const maxSize = chunker?.options.maxSize
    const outSize = maxSize === undefined ? 0 : Math.ceil((maxSize + (maxSize >> 8) + 128 + 32) / 65536) * 65536
    this.canStoreFiles = chunker !== undefined
    this.pool = new WorkerPool({
      name: 'seal',
      url: workerUrl('seal'),
      size,
      exposeGc: true,
      setup: () => {
        const outMem = new SharedArrayBuffer(OUT_SLOTS * outSize)
        const workerData: SealWorkerData = {
          key: key.toMasterKeyJson(),
          level: compressionLevel ?? null,
          chunker: chunker ? { pol: chunker.pol, options: { ...chunker.options } } : null,
          outMem,
          outSize,
          outSlots: OUT_SLOTS,
        }
        return { workerData, state: { outstanding: 0, fileBytes: 0, outMem, outSize } }
      },
      onMessage: (w, m) => this.receive(w, m),
      onFailure: () => {
        this.wakeDrain()
        this.flushFiles() // queued files go to the other workers (or fail when none is left)
      },
      busy: (w) => w.state.outstanding > 0,
    })
  }

  /** True if the workers can store whole files (they were given a chunker). */
  readonly canStoreFiles: boolean

  /** True if this pool seals exactly as `dbe.sealBlob` does (same key, same compression). */
  matches(dbe: DecryptBackend): boolean {
    return this.key.equals(dbe.key) && this.compressionLevel === blobCompressionLevel(dbe)
  }

  /**
   * Starts a pool that seals blobs for `dbe` (its key; its compression in a v2 repository, none in v1).
   * Returns undefined where the native modules it needs (zstd-napi, sodium-native) cannot be used.
   */
  static async start(dbe: DecryptBackend, options: SealPoolOptions = {}): Promise<SealPool | undefined> {
    if (sodiumPoly1305() === undefined || nativeZstdBuffers() === undefined) return undefined
    const key = dbe.key
    const compressionLevel = blobCompressionLevel(dbe)
    const n = Math.max(1, options.workers ?? Math.min(8, availableParallelism()))
    const pool = new SealPool(key, compressionLevel, options.chunker, n)
    // self-test: what the workers seal must open with the key
    const probe = new TextEncoder().encode('rustic-ts seal pool self-test '.repeat(8))
    const passed = await pool.pool.selfTest(async (w) => {
      const s = await pool.sealOn(w, probe)
      let plain = key.decrypt(s.sealed, 'seal pool self-test')
      if (s.uncompressedLength !== undefined) plain = decompress(plain, 'seal pool self-test', s.uncompressedLength)
      if (Buffer.compare(plain, probe) !== 0 || (compressionLevel === undefined) !== (s.uncompressedLength === undefined)) {
        throw new Error('sealed data differs')
      }
    })
    return passed ? pool : undefined
  }

  /** Number of worker threads. */
  get size(): number {
    return this.pool.size
  }

  /** Jobs handed to the workers and not yet done. */
  get pending(): number {
    return this.pool.pending
  }

  /**
   * Seals a blob on the least busy worker. `plain` is copied before this returns, so the caller may
   * reuse it. An empty blob is not compressed (a zero uncompressed length means "not compressed").
   */
  seal(plain: Uint8Array): Promise<SealedBlob> {
    if (plain.length >= BATCH_BLOB_LIMIT) return this.sealOn(this.pool.leastBusy(), plain)
    return new Promise<SealedBlob>((resolve, reject) => {
      this.batch.push({ plain: Uint8Array.prototype.slice.call(plain), resolve, reject })
      this.batchBytes += plain.length
      if (this.batchBytes >= BATCH_BYTES || this.batch.length >= BATCH_COUNT) this.flushBatch()
      else if (!this.batchScheduled) {
        this.batchScheduled = true
        setImmediate(() => this.flushBatch())
      }
    })
  }

  /**
   * Stores a local file on a worker: the worker reads it (never through a symlink), cuts it with the
   * pool's chunker, hashes the chunks, asks `sink` which are new and seals those into `sink`. Resolves
   * with the file's content once every chunk is either known to `sink` or claimed by it (the claimed ones
   * reach `sink.addClaimed` later: see {@link SealPool.drain}). A file that cannot be read rejects with an
   * `InputOutput` error naming the path. One pool stores files for one sink.
   */
  storeFile(path: string | Uint8Array, expectedSize: number, sink: BlobSink): Promise<StoredFile> {
    if (!this.canStoreFiles) return Promise.reject(new RusticError('Internal', 'this seal pool was started without a chunker'))
    if ((this.sink ??= sink) !== sink) return Promise.reject(new RusticError('Internal', 'a seal pool stores files for one sink only'))
    return new Promise<StoredFile>((resolve, reject) => {
      const bytes = typeof path === 'string' ? Buffer.from(path) : path
      const shown = (): string => (typeof path === 'string' ? path : Buffer.from(path).toString('utf8'))
      const job: SealJob = {
        kind: 'file',
        bytes: expectedSize,
        fail: reject,
        done: (r) => {
          if ('error' in r) return reject(new RusticError('InputOutput', `cannot read ${shown()}: ${r.error}`, { code: r.code ?? 'ReadFailed' }))
          resolve({ content: r.content, size: r.size })
        },
      }
      this.fileBatch.push({ path: bytes, expected: expectedSize, job })
      if (this.fileBatch.length >= FILE_BATCH_COUNT) this.flushFiles()
      else if (!this.fileBatchScheduled) {
        this.fileBatchScheduled = true
        setImmediate(() => this.flushFiles())
      }
    })
  }

  /**
   * Hands queued files to the workers, in order, as messages of up to {@link FILE_BATCH_COUNT} files (paths
   * in one buffer). A worker takes files while it has less than {@link FILE_BYTES_AHEAD} to go, so that a
   * worker that is done early takes the next files instead of both getting an equal share up front, and
   * while fewer than {@link ANSWERS_AHEAD} of its answers wait to come back sealed.
   */
  private flushFiles(): void {
    this.fileBatchScheduled = false
    if (this.pool.closed) return
    for (;;) {
      if (this.fileBatch.length === 0) return
      const alive = this.pool.workers.filter((c) => !c.dead)
      if (alive.length === 0) {
        const e = this.pool.failedError(this.pool.failure!)
        return this.fileBatch.splice(0).forEach((i) => i.job.fail(e))
      }
      let w: SealWorker | undefined
      for (const c of alive) if (c.state.outstanding < ANSWERS_AHEAD && (!w || c.state.fileBytes < w.state.fileBytes)) w = c
      // the next file done or batch stored sends more
      if (!w || w.state.fileBytes >= FILE_BYTES_AHEAD) return
      const items: typeof this.fileBatch = []
      let bytes = 0
      while (this.fileBatch.length > 0 && items.length < FILE_BATCH_COUNT && (items.length === 0 || w.state.fileBytes + bytes < FILE_BYTES_AHEAD)) {
        const item = this.fileBatch.shift()!
        items.push(item)
        bytes += item.expected
      }
      const paths = new Uint8Array(items.reduce((n, i) => n + i.path.length, 0))
      const ends: number[] = []
      const ids: number[] = []
      let pos = 0
      for (const i of items) {
        paths.set(i.path, pos)
        pos += i.path.length
        ends.push(pos)
        ids.push(this.pool.add(w, i.job))
      }
      w.state.fileBytes += bytes
      this.pool.post(w, { type: 'files', ids, expected: items.map((i) => i.expected), paths, ends }, [paths.buffer])
    }
  }

  /** Resolves once every blob claimed for {@link SealPool.storeFile} has reached the sink; rejects if a worker failed. */
  drain(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const failure = this.pool.failure
        if (failure) return reject(this.pool.failedError(failure))
        if (this.pool.closed) return reject(this.pool.closedError())
        if (this.pool.workers.every((w) => w.state.outstanding === 0)) return resolve()
        this.drainWaiters.push(check)
      }
      check()
    })
  }

  /** Sends the small blobs collected so far to one worker as one message. */
  private flushBatch(): void {
    this.batchScheduled = false
    const items = this.batch
    if (items.length === 0) return
    this.batch = []
    this.batchBytes = 0
    const data = new Uint8Array(items.reduce((n, i) => n + i.plain.length, 0))
    let off = 0
    for (const i of items) {
      data.set(i.plain, off)
      off += i.plain.length
    }
    const lengths = items.map((i) => i.plain.length)
    this.post(this.pool.leastBusy(), data, lengths, (m) => {
      let pos = 0
      items.forEach((item, k) => {
        const n = m.lengths[k]!
        const ul = m.uls[k]!
        const sealed = m.sealed.subarray(pos, pos + n)
        pos += n
        item.resolve(ul < 0 ? { sealed } : { sealed, uncompressedLength: ul })
      })
    }, (e) => items.forEach((i) => i.reject(e)))
  }

  /** Ends the workers; pending jobs fail. */
  async close(): Promise<void> {
    if (this.pool.closed) return
    const error = this.pool.closedError()
    const left = this.batch
    this.batch = []
    for (const i of left) i.reject(error)
    const files = this.fileBatch
    this.fileBatch = []
    for (const f of files) f.job.fail(error)
    await this.pool.close()
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
    this.pool.request(w, { kind: 'seal', done, fail }, (id) => ({ type: 'seal', id, data, lengths }), [data.buffer as ArrayBuffer])
  }

  private receive(w: SealWorker, m: SealWorkerOut): void {
    switch (m.type) {
      case 'query':
        return this.answer(w, m)
      case 'stored':
        return this.takeStored(w, m)
      case 'sealed': {
        const job = this.pool.take(w, m.id)
        if (job?.kind === 'seal') job.done(m)
        return
      }
      case 'sealFailed':
        return this.pool.take(w, m.id)?.fail(new RusticError('Internal', `sealing a blob failed: ${m.message}`))
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
      if (any) w.state.outstanding++
      this.pool.post(w, { type: 'answer', query: m.query, claims })
    }
    for (const f of m.files) {
      const job = this.pool.take(w, f.id)
      if (job?.kind !== 'file') continue
      w.state.fileBytes -= job.bytes
      job.done(f)
    }
    if (m.files.length > 0) this.flushFiles()
    this.pool.updateRef(w)
  }

  private takeStored(w: SealWorker, m: StoredChunks): void {
    const sink = this.sink!
    const sealed = new Uint8Array(w.state.outMem, m.slot * w.state.outSize, m.length)
    // once the sink is done with every blob, the slot goes back to the worker to be filled again
    let left = m.ids.length
    const recycle = (): void => {
      if (--left > 0) return
      this.pool.post(w, { type: 'recycle', slot: m.slot })
    }
    let pos = 0
    m.ids.forEach((id, k) => {
      const n = m.lengths[k]!
      const ul = m.uls[k]!
      let called = false
      const done = (): void => {
        if (!called) recycle()
        called = true
      }
      sink.addClaimed(id, sealed.subarray(pos, pos + n), ul < 0 ? undefined : ul, m.sizes[k]!, done)
      pos += n
    })
    if (!m.more) {
      w.state.outstanding--
      if (w.state.outstanding === ANSWERS_AHEAD - 1) this.flushFiles()
    }
    this.pool.updateRef(w)
    this.wakeDrain()
  }

  private wakeDrain(): void {
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const f of waiters) f()
  }
}

/** The zstd level `dbe.sealBlob` compresses blobs with, or undefined when it does not compress. */
function blobCompressionLevel(dbe: DecryptBackend): number | undefined {
  return dbe.version === 2 ? dbe.compressionLevel : undefined
}
