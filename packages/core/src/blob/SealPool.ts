import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { decompress } from '../compression/index.js'
import type { DecryptBackend } from '../backend/DecryptBackend.js'
import type { Key } from '../crypto/Key.js'
import { workerKeyData } from '../crypto/workerKey.js'
import { RusticError, toErrorCode } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { Chunker } from '../chunker/Chunker.js'
import { SEAL_WORKER_SOURCE } from './sealWorkerSource.js'

/** A sealed blob: stored bytes, and the uncompressed length when compressed. */
export interface SealedBlob {
  /** `IV || ciphertext || MAC` of the (possibly compressed) blob. */
  sealed: Uint8Array
  /** The plaintext length, set only when the blob was compressed. */
  uncompressedLength?: number
}

interface Job {
  resolve: (m: WorkerAnswer) => void
  reject: (e: unknown) => void
  /** File jobs: the file's expected size, counted in its worker's `fileBytes` until it is done. */
  bytes?: number
}

/** A worker's answer to a job: one sealed blob, a batch (`lengths`/`uls` set) in one buffer, or an error. */
interface WorkerAnswer {
  id: number
  sealed?: Uint8Array
  ul?: number
  lengths?: number[]
  uls?: number[]
  error?: string
}

/** A finished file job, as the worker reports it. */
type FileReport = { id: number; content: string[]; size: number } | { id: number; fileError: string; code?: string }

/** A worker's question: which of these chunks are new? Sent with the files finished since the last one. */
interface WorkerQuery {
  query: number
  ids: string[]
  lengths: number[]
  files: FileReport[]
}

/** Claimed chunks of one answer (all, or one batch of them), sealed, in a slot of the worker's shared memory. */
interface WorkerStored {
  /** Slot of the worker's `outMem`. */
  stored: number
  /** Bytes in the slot. */
  length: number
  ids: string[]
  lengths: number[]
  uls: number[]
  sizes: number[]
  /** More batches follow for the same answer. */
  more: boolean
}

type WorkerMessage = WorkerAnswer | WorkerQuery | WorkerStored

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

interface PoolWorker {
  worker: Worker
  jobs: Map<number, Job>
  /** Answers with claimed chunks whose sealed blobs have not come back yet. */
  outstanding: number
  /** Expected bytes of the files handed to this worker and not yet done. */
  fileBytes: number
  /** Set once the worker failed or exited. */
  dead?: Error
  /** Where the worker puts sealed batches of files' chunks: slots of `outSize` bytes. */
  outMem: SharedArrayBuffer
  outSize: number
}

/** Options of {@link SealPool.start}. */
export interface SealPoolOptions {
  /** Number of worker threads; default: the number of cores (at most 8). */
  workers?: number
  /** Lets the workers store whole files ({@link SealPool.storeFile}), cutting them as this chunker does. */
  chunker?: Chunker
}

/**
 * Seals blobs (compress + encrypt, exactly as `DecryptBackend.sealBlob`) on worker threads, so that the
 * main thread is not busy compressing; with a chunker, the workers also read, cut and hash whole files
 * ({@link SealPool.storeFile}). The pool holds a copy of the master key in its workers' memory;
 * {@link SealPool.close} ends them.
 */
export class SealPool {
  private seq = 0
  private closed = false
  private batch: Array<{ plain: Uint8Array; resolve: (s: SealedBlob) => void; reject: (e: unknown) => void }> = []
  private batchBytes = 0
  private batchScheduled = false
  private sink: BlobSink | undefined
  private fileBatch: Array<{ path: Uint8Array; expected: number; job: Job }> = []
  private fileBatchScheduled = false
  private drainWaiters: Array<() => void> = []

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly key: Key,
    /** zstd level, or undefined for no compression. */
    readonly compressionLevel: number | undefined,
    /** True if the workers can store whole files (they were given a chunker). */
    readonly canStoreFiles: boolean,
  ) {}

  /** True if this pool seals exactly as `dbe.sealBlob` does (same key, same compression). */
  matches(dbe: DecryptBackend): boolean {
    return this.key.equals(dbe.key) && this.compressionLevel === blobCompressionLevel(dbe)
  }

  /**
   * Starts a pool that seals blobs for `dbe` (its key; its compression in a v2 repository, none in v1).
   * Returns undefined where the native modules it needs (zstd-napi, sodium-native) cannot be used.
   */
  static async start(dbe: DecryptBackend, options: SealPoolOptions = {}): Promise<SealPool | undefined> {
    const key = dbe.key
    const compressionLevel = blobCompressionLevel(dbe)
    const keyData = workerKeyData(key)
    if (!keyData) return undefined
    const n = Math.max(1, options.workers ?? Math.min(8, availableParallelism()))
    const chunker = options.chunker?.workerSetup() ?? null
    // a file worker's sealed batches: slots for the largest chunk, compressed (zstd's bound) and sealed
    const outSize = chunker ? Math.ceil((chunker.maxSize + (chunker.maxSize >> 8) + 128 + 32) / 65536) * 65536 : 0
    const workers: PoolWorker[] = []
    for (let i = 0; i < n; i++) {
      const outMem = new SharedArrayBuffer(OUT_SLOTS * outSize)
      const workerData = { ...keyData, level: compressionLevel ?? null, chunker, outMem, outSize, outSlots: OUT_SLOTS }
      const worker = new Worker(SEAL_WORKER_SOURCE, { eval: true, workerData })
      worker.unref() // idle workers do not keep the process alive
      workers.push({ worker, jobs: new Map(), outstanding: 0, fileBytes: 0, outMem, outSize })
    }
    const pool = new SealPool(workers, key, compressionLevel, chunker !== null)
    for (const w of workers) {
      w.worker.on('message', (m: WorkerMessage) => pool.receive(w, m))
      w.worker.on('error', (e) => pool.fail(w, e))
      w.worker.on('exit', (code) => pool.fail(w, new Error(`seal worker exited with code ${code}`)))
    }
    // self-test: what the workers seal must open with the key
    try {
      const probe = new TextEncoder().encode('rustic-ts seal pool self-test '.repeat(8))
      for (const w of workers) {
        const s = await pool.sealOn(w, probe)
        let plain = key.decrypt(s.sealed, 'seal pool self-test')
        if (s.uncompressedLength !== undefined) plain = decompress(plain, 'seal pool self-test', s.uncompressedLength)
        if (Buffer.compare(plain, probe) !== 0 || (compressionLevel === undefined) !== (s.uncompressedLength === undefined)) {
          throw new Error('sealed data differs')
        }
      }
    } catch {
      await pool.close()
      return undefined
    }
    return pool
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length
  }

  /** Jobs handed to the workers and not yet done. */
  get pending(): number {
    let n = 0
    for (const w of this.workers) n += w.jobs.size
    return n
  }

  /**
   * Seals a blob on the least busy worker. `plain` is copied before this returns, so the caller may
   * reuse it. An empty blob is not compressed (a zero uncompressed length means "not compressed").
   */
  seal(plain: Uint8Array): Promise<SealedBlob> {
    if (plain.length >= BATCH_BLOB_LIMIT) return this.sealOn(this.leastBusy(), plain)
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
      const job: Job = {
        bytes: expectedSize,
        reject,
        resolve: (m) => {
          const r = m as unknown as FileReport
          if ('fileError' in r) return reject(new RusticError('InputOutput', `cannot read ${shown()}: ${r.fileError}`, { code: toErrorCode(r.code, 'ReadFailed') }))
          resolve({ content: r.content as Id[], size: r.size })
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
    if (this.closed) return
    for (;;) {
      if (this.fileBatch.length === 0) return
      const alive = this.workers.filter((c) => !c.dead)
      if (alive.length === 0) {
        const e = new RusticError('Internal', `the seal pool's workers failed: ${this.workers[0]!.dead!.message}`)
        return this.fileBatch.splice(0).forEach((i) => i.job.reject(e))
      }
      let w: PoolWorker | undefined
      for (const c of alive) if (c.outstanding < ANSWERS_AHEAD && (!w || c.fileBytes < w.fileBytes)) w = c
      // the next file done or batch stored sends more
      if (!w || w.fileBytes >= FILE_BYTES_AHEAD) return
      const items: typeof this.fileBatch = []
      let bytes = 0
      while (this.fileBatch.length > 0 && items.length < FILE_BATCH_COUNT && (items.length === 0 || w.fileBytes + bytes < FILE_BYTES_AHEAD)) {
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
        const id = this.seq++
        ids.push(id)
        w.jobs.set(id, i.job)
      }
      w.fileBytes += bytes
      this.updateRef(w)
      w.worker.postMessage({ files: { ids, expected: items.map((i) => i.expected), paths, ends } }, [paths.buffer])
    }
  }

  /** Resolves once every blob claimed for {@link SealPool.storeFile} has reached the sink; rejects if a worker failed. */
  drain(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        const dead = this.workers.find((w) => w.dead)
        if (dead) return reject(new RusticError('Internal', `a seal worker failed: ${dead.dead!.message}`, { cause: dead.dead }))
        if (this.workers.every((w) => w.outstanding === 0)) return resolve()
        this.drainWaiters.push(check)
      }
      check()
    })
  }

  private leastBusy(): PoolWorker {
    let best: PoolWorker | undefined
    for (const w of this.workers) if (!w.dead && (!best || w.jobs.size < best.jobs.size)) best = w
    return best ?? this.workers[0]!
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
    const fail = (e: unknown): void => items.forEach((i) => i.reject(e))
    this.post(this.leastBusy(), { data, lengths }, (m) => {
      let pos = 0
      items.forEach((item, k) => {
        const n = m.lengths![k]!
        const ul = m.uls![k]!
        const sealed = m.sealed!.subarray(pos, pos + n)
        pos += n
        item.resolve(ul < 0 ? { sealed } : { sealed, uncompressedLength: ul })
      })
    }, fail)
  }

  /** Ends the workers; pending jobs fail. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const left = this.batch
    this.batch = []
    for (const i of left) i.reject(new RusticError('Internal', 'the seal pool is closed'))
    const files = this.fileBatch
    this.fileBatch = []
    for (const f of files) f.job.reject(new RusticError('Internal', 'the seal pool is closed'))
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }

  private sealOn(w: PoolWorker, plain: Uint8Array): Promise<SealedBlob> {
    const copy = Uint8Array.prototype.slice.call(plain) // own ArrayBuffer: transferred, not cloned with its neighbours
    return new Promise<SealedBlob>((resolve, reject) => {
      this.post(w, { data: copy }, (m) => resolve(m.ul === undefined ? { sealed: m.sealed! } : { sealed: m.sealed!, uncompressedLength: m.ul }), reject)
    })
  }

  /** Sends a job (its `data` buffer transferred) to a worker. */
  private post(w: PoolWorker, msg: { data: Uint8Array; lengths?: number[] }, resolve: (m: WorkerAnswer) => void, reject: (e: unknown) => void): void {
    this.postJob(w, msg, msg.data.buffer as ArrayBuffer, resolve, reject)
  }

  private postJob(w: PoolWorker, msg: object, transfer: ArrayBuffer | undefined, resolve: (m: WorkerAnswer) => void, reject: (e: unknown) => void): void {
    if (this.closed) return reject(new RusticError('Internal', 'the seal pool is closed'))
    if (w.dead) return reject(new RusticError('Internal', `the seal pool's workers failed: ${w.dead.message}`, { cause: w.dead }))
    const id = this.seq++
    w.jobs.set(id, { resolve, reject })
    this.updateRef(w)
    w.worker.postMessage({ id, ...msg }, transfer ? [transfer] : [])
  }

  /** Keeps the process alive while a worker has work out. */
  private updateRef(w: PoolWorker): void {
    if (w.jobs.size > 0 || w.outstanding > 0) w.worker.ref()
    else w.worker.unref()
  }

  private receive(w: PoolWorker, m: WorkerMessage): void {
    if ('query' in m) this.answer(w, m)
    else if ('stored' in m) this.takeStored(w, m)
    else this.finish(w, m.id, m)
  }

  /** Claims the new chunks of a query, answers it, then settles the files reported with it. */
  private answer(w: PoolWorker, m: WorkerQuery): void {
    if (m.query >= 0) {
      const sink = this.sink!
      let claims = ''
      let any = false
      for (const id of m.ids) {
        const claimed = sink.claim(id as Id)
        claims += claimed ? '1' : '0'
        any ||= claimed
      }
      if (any) w.outstanding++
      w.worker.postMessage({ answer: m.query, claims })
    }
    for (const f of m.files) this.finish(w, f.id, f as unknown as WorkerAnswer)
    if (m.files.length > 0) this.flushFiles()
    this.updateRef(w)
  }

  private takeStored(w: PoolWorker, m: WorkerStored): void {
    const sink = this.sink!
    const sealed = new Uint8Array(w.outMem, m.stored * w.outSize, m.length)
    // once the sink is done with every blob, the slot goes back to the worker to be filled again
    let left = m.ids.length
    const recycle = (): void => {
      if (--left > 0 || w.dead || this.closed) return
      w.worker.postMessage({ recycle: m.stored })
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
      sink.addClaimed(id as Id, sealed.subarray(pos, pos + n), ul < 0 ? undefined : ul, m.sizes[k]!, done)
      pos += n
    })
    if (!m.more) {
      w.outstanding--
      if (w.outstanding === ANSWERS_AHEAD - 1) this.flushFiles()
    }
    this.updateRef(w)
    this.wakeDrain()
  }

  private wakeDrain(): void {
    const waiters = this.drainWaiters
    this.drainWaiters = []
    for (const f of waiters) f()
  }

  private finish(w: PoolWorker, id: number, m: WorkerAnswer): void {
    const job = w.jobs.get(id)
    if (!job) return
    w.jobs.delete(id)
    w.fileBytes -= job.bytes ?? 0
    this.updateRef(w)
    if (m.error !== undefined) {
      job.reject(new RusticError('Internal', `sealing a blob failed: ${m.error}`))
    } else {
      job.resolve(m)
    }
  }

  private fail(w: PoolWorker, cause: unknown): void {
    w.dead ??= cause instanceof Error ? cause : new Error(String(cause))
    for (const job of w.jobs.values()) {
      job.reject(new RusticError('Internal', `a seal worker failed: ${w.dead.message}`, { cause }))
    }
    w.jobs.clear()
    this.wakeDrain()
    this.flushFiles() // queued files go to the other workers (or fail when none is left)
  }
}

/** The zstd level `dbe.sealBlob` compresses blobs with, or undefined when it does not compress. */
function blobCompressionLevel(dbe: DecryptBackend): number | undefined {
  return dbe.version === 2 ? dbe.compressionLevel : undefined
}
