import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { decompress } from '../compression/index.js'
import type { DecryptBackend } from '../backend/DecryptBackend.js'
import type { Key } from '../crypto/Key.js'
import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'

/** A sealed blob: stored bytes, and the uncompressed length when compressed. */
export interface SealedBlob {
  /** `IV || ciphertext || MAC` of the (possibly compressed) blob. */
  sealed: Uint8Array
  /** The plaintext length, set only when the blob was compressed. */
  uncompressedLength?: number
}

/**
 * The worker: the same sealing as `DecryptBackend.sealBlob` (zstd via zstd-napi's binding, then
 * `Key.encrypt`: AES-256-CTR + Poly1305-AES via sodium-native). Plain CommonJS so that it runs from
 * sources and from the bundle alike. The pool checks its output with `Key.decrypt` at start.
 */
const WORKER_SOURCE = `'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { createCipheriv, createHash, createSecretKey, randomFillSync } = require('node:crypto')
const fs = require('node:fs')
const sodium = require(workerData.sodium)
const binding = workerData.level === null ? null : require(workerData.zstd)
const cctx = binding ? new binding.CCtx() : null
const encKey = createSecretKey(Buffer.from(workerData.encrypt, 'base64'))
const macKey = createSecretKey(Buffer.from(workerData.k, 'base64'))
const CLAMP = [0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f]
const r = Buffer.from(workerData.r, 'base64').map((b, i) => b & CLAMP[i])
workerData.encrypt = workerData.k = workerData.r = ''
const ZERO = Buffer.alloc(16)
const PIECE = 1 << 20
let scratch = Buffer.alloc(0)
function encrypt(plain) {
  const n = plain.length
  const out = Buffer.allocUnsafeSlow(n + 32)
  const iv = out.subarray(0, 16)
  do randomFillSync(iv)
  while (iv.every((b) => b === 0))
  const cipher = createCipheriv('aes-256-ctr', encKey, iv)
  const polyKey = Buffer.alloc(32)
  polyKey.set(r, 0)
  polyKey.set(createCipheriv('aes-128-ctr', macKey, iv).update(ZERO), 16)
  const state = Buffer.alloc(sodium.crypto_onetimeauth_STATEBYTES)
  sodium.crypto_onetimeauth_init(state, polyKey)
  for (let off = 0; off < n; off += PIECE) {
    const piece = cipher.update(plain.subarray(off, Math.min(n, off + PIECE)))
    out.set(piece, 16 + off)
    sodium.crypto_onetimeauth_update(state, piece)
  }
  sodium.crypto_onetimeauth_final(state, out.subarray(16 + n))
  return out
}
function seal(data) {
  let body = data
  let ul
  if (cctx && body.length > 0) {
    const bound = binding.compressBound(body.length)
    if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(Math.max(bound, 65536))
    body = scratch.subarray(0, cctx.compress(scratch, body, workerData.level))
    ul = data.length
  }
  return { sealed: encrypt(body), ul }
}
function readSmallFile(path, expected, limit) {
  // O_NOFOLLOW: never read through a symlink put in place since the walk; O_NONBLOCK: never hang on a fifo.
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
  try {
    if (!fs.fstatSync(fd).isFile()) return { changed: 'changed type' }
    const buf = Buffer.allocUnsafeSlow(Math.min(expected, limit) + 1)
    let n = 0
    for (;;) {
      const r = fs.readSync(fd, buf, n, buf.length - n, null)
      if (r === 0) break
      n += r
      if (n === buf.length) return { changed: 'grew' }
    }
    return { data: buf.subarray(0, n) }
  } finally {
    fs.closeSync(fd)
  }
}
parentPort.on('message', (m) => {
  try {
    if (m.file) {
      // A small file (one chunk): read, hash and seal it here.
      let r
      try {
        r = readSmallFile(m.file, m.expected, m.limit)
      } catch (e) {
        parentPort.postMessage({ id: m.id, fileError: String((e && e.message) || e), code: e && e.code })
        return
      }
      if (r.changed) {
        parentPort.postMessage({ id: m.id, changed: r.changed })
        return
      }
      const blobId = createHash('sha256').update(r.data).digest('hex')
      if (r.data.length === 0) {
        parentPort.postMessage({ id: m.id, size: 0 })
        return
      }
      const { sealed, ul } = seal(r.data)
      const out = new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.length)
      parentPort.postMessage({ id: m.id, sealed: out, ul, blobId, size: r.data.length }, [out.buffer])
      return
    }
    if (m.lengths) {
      // A batch of small blobs in one buffer: answer with one buffer of sealed blobs.
      const parts = []
      const lengths = []
      const uls = []
      let off = 0
      let total = 0
      for (const n of m.lengths) {
        const { sealed, ul } = seal(m.data.subarray(off, off + n))
        off += n
        parts.push(sealed)
        lengths.push(sealed.length)
        uls.push(ul === undefined ? -1 : ul)
        total += sealed.length
      }
      const out = new Uint8Array(total)
      let pos = 0
      for (const p of parts) {
        out.set(p, pos)
        pos += p.length
      }
      parentPort.postMessage({ id: m.id, sealed: out, lengths, uls }, [out.buffer])
      return
    }
    const { sealed, ul } = seal(m.data)
    const out = new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.length)
    parentPort.postMessage({ id: m.id, sealed: out, ul }, [out.buffer])
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) })
  }
})
`

interface Job {
  resolve: (m: WorkerAnswer) => void
  reject: (e: unknown) => void
}

/** What a worker answers: one sealed blob, or a batch (`lengths`/`uls` set) in one buffer. */
interface WorkerAnswer {
  id: number
  sealed?: Uint8Array
  ul?: number
  lengths?: number[]
  uls?: number[]
  error?: string
  /** File jobs: the blob id and file size; or why the file could not be read / must be read another way. */
  blobId?: string
  size?: number
  fileError?: string
  code?: string
  changed?: string
}

/** What {@link SealPool.sealFile} gives: the file's one blob, sealed, or a sign to read it the normal way. */
export type SealedFile =
  | { kind: 'sealed'; id: Id; size: number; sealed: Uint8Array; uncompressedLength?: number }
  | { kind: 'empty' }
  /** The file changed (grew past the limit, or is no longer a regular file) since it was listed. */
  | { kind: 'changed'; why: string }

/** Blobs smaller than this are sent to the workers in batches. */
const BATCH_BLOB_LIMIT = 64 * 1024
/** A batch is sent once it holds this many bytes or blobs (or at the end of the current turn of the event loop). */
const BATCH_BYTES = 1 << 20
const BATCH_COUNT = 512

interface PoolWorker {
  worker: Worker
  jobs: Map<number, Job>
  /** Set once the worker failed or exited. */
  dead?: Error
}

/** Options of {@link SealPool.start}. */
export interface SealPoolOptions {
  /** Number of worker threads; default: the number of cores (at most 8). */
  workers?: number
}

/**
 * Seals blobs (compress + encrypt, exactly as `DecryptBackend.sealBlob`) on worker threads,
 * so that the thread that chunks and hashes is not also busy compressing. The pool holds a copy of the
 * master key in its workers' memory; {@link SealPool.close} ends them.
 */
export class SealPool {
  private seq = 0
  private closed = false
  private batch: Array<{ plain: Uint8Array; resolve: (s: SealedBlob) => void; reject: (e: unknown) => void }> = []
  private batchBytes = 0
  private batchScheduled = false

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly key: Key,
    /** zstd level, or undefined for no compression. */
    readonly compressionLevel: number | undefined,
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
    let sodium: string
    let zstd: string
    try {
      const require = createRequire(import.meta.url)
      sodium = require.resolve('sodium-native')
      zstd = require.resolve('zstd-napi/binding.js')
    } catch {
      return undefined
    }
    const n = Math.max(1, options.workers ?? Math.min(8, availableParallelism()))
    const { mac, encrypt } = key.toMasterKeyJson()
    const workerData = { sodium, zstd, level: compressionLevel ?? null, encrypt, k: mac.k, r: mac.r }
    const workers: PoolWorker[] = []
    for (let i = 0; i < n; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
      worker.unref() // idle workers do not keep the process alive
      workers.push({ worker, jobs: new Map() })
    }
    const pool = new SealPool(workers, key, compressionLevel)
    for (const w of workers) {
      w.worker.on('message', (m: WorkerAnswer) => pool.done(w, m))
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
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }

  private sealOn(w: PoolWorker, plain: Uint8Array): Promise<SealedBlob> {
    const copy = Uint8Array.prototype.slice.call(plain) // own ArrayBuffer: transferred, not cloned with its neighbours
    return new Promise<SealedBlob>((resolve, reject) => {
      this.post(w, { data: copy }, (m) => resolve(m.ul === undefined ? { sealed: m.sealed! } : { sealed: m.sealed!, uncompressedLength: m.ul }), reject)
    })
  }

  /**
   * Reads a small local file (expected to be at most `limit` bytes, i.e. one chunk) on a worker, hashes
   * and seals it there, so that the calling thread does no file I/O, hashing or sealing for it. A file that
   * cannot be opened or read rejects with an `InputOutput` error naming the path.
   */
  sealFile(path: string | Uint8Array, expectedSize: number, limit: number): Promise<SealedFile> {
    return new Promise<SealedFile>((resolve, reject) => {
      const file = typeof path === 'string' ? path : Buffer.from(path)
      this.postJob(this.leastBusy(), { file, expected: expectedSize, limit }, undefined, (m) => {
        if (m.fileError !== undefined) {
          const shown = typeof path === 'string' ? path : Buffer.from(path).toString('utf8')
          return reject(new RusticError('InputOutput', `cannot read ${shown}: ${m.fileError}`, { code: m.code ?? 'ReadFailed' }))
        }
        if (m.changed !== undefined) return resolve({ kind: 'changed', why: m.changed })
        if (!m.sealed) return resolve({ kind: 'empty' })
        resolve({ kind: 'sealed', id: m.blobId as Id, size: m.size!, sealed: m.sealed, uncompressedLength: m.ul })
      }, reject)
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
    if (w.jobs.size === 0) w.worker.ref() // keep the process alive while a job is out
    w.jobs.set(id, { resolve, reject })
    w.worker.postMessage({ id, ...msg }, transfer ? [transfer] : [])
  }

  private done(w: PoolWorker, m: WorkerAnswer): void {
    const job = w.jobs.get(m.id)
    if (!job) return
    w.jobs.delete(m.id)
    if (w.jobs.size === 0) w.worker.unref()
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
  }
}

/** The zstd level `dbe.sealBlob` compresses blobs with, or undefined when it does not compress. */
function blobCompressionLevel(dbe: DecryptBackend): number | undefined {
  return dbe.version === 2 ? dbe.compressionLevel : undefined
}
