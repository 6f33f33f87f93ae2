import { Worker } from 'node:worker_threads'
import { compress } from '../../compression/index.js'
import type { Key } from '../../crypto/Key.js'
import { workerKeyData, WORKER_KEY_SOURCE } from '../../crypto/workerKey.js'
import { RusticError, toErrorCode } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import type { FsPath } from './fsPath.js'
import type { FileMetadata } from './MetadataWriter.js'

/** Where a blob goes: a path, an offset, and how to open the file. */
export interface PoolTarget {
  /** Index of the file in the plan (reported back when written). */
  file: number
  /** The file. */
  path: FsPath
  /** Offset in the file. */
  offset: number
  /** True: create/truncate the file with this write (a new file of one blob); false: it exists already. */
  create: boolean
  /** Do not write (an all-zero blob of a preallocated sparse file). */
  skipZero: boolean
  /** Metadata to set after this write (the file's last): owner, mode, times. */
  meta?: FileMetadata
}

/** One blob of a pack range, for the workers. */
export interface PoolBlob {
  /** Blob id (checked when `verify`). */
  id: Id
  /** Offset of the sealed blob in the range. */
  start: number
  /** Sealed length. */
  length: number
  /** Uncompressed length of compressed blobs. */
  uncompressedLength?: number
  /** Plaintext length. */
  dataLength: number
  /** Where it is written. */
  targets: PoolTarget[]
}

/** What a worker did with one pack range. */
export interface PoolResult {
  /** Plaintext bytes written. */
  written: number
  /** The file index of every write done, in order. */
  files: number[]
  /** Files whose metadata was set. */
  metaDone: number[]
}

/**
 * The worker: opens blobs as `Key.decrypt` does (Poly1305-AES via sodium-native, AES-256-CTR),
 * decompresses with zstd-napi's binding, checks the blob id, and writes the plaintext to its places with
 * synchronous positioned writes (never following a symlink). Plain CommonJS so that it runs from sources
 * and from the bundle alike; the pool checks it against `Key` at start.
 */
const WORKER_SOURCE = `'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const { createDecipheriv, createHash, timingSafeEqual } = require('node:crypto')
${WORKER_KEY_SOURCE}
const binding = require(workerData.zstd)
const dctx = new binding.DCtx()
const PIECE = 1 << 20
const C = fs.constants
const CREATE = C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_NOFOLLOW
const REOPEN = C.O_WRONLY | C.O_NOFOLLOW
class JobError extends Error { constructor(code, message, path) { super(message); this.code = code; this.path = path } }
function openBlob(sealed) {
  if (sealed.length < 32) throw new JobError('MacMismatch', 'MAC check failed: too short to hold IV and MAC')
  const iv = sealed.subarray(0, 16)
  const ct = sealed.subarray(16, sealed.length - 16)
  const tag = sealed.subarray(sealed.length - 16)
  const mac = Buffer.alloc(16)
  sodium.crypto_onetimeauth(mac, ct, polyKey(iv))
  if (!timingSafeEqual(mac, tag)) throw new JobError('MacMismatch', 'MAC check failed: the data is corrupted or was tampered with')
  const d = createDecipheriv('aes-256-ctr', encKey, iv)
  if (ct.length <= PIECE) return d.update(ct)
  const out = Buffer.allocUnsafeSlow(ct.length)
  for (let off = 0; off < ct.length; off += PIECE) out.set(d.update(ct.subarray(off, Math.min(ct.length, off + PIECE))), off)
  return out
}
let scratch = Buffer.alloc(0)
function pathOf(p) { return typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength) }
parentPort.on('message', (m) => {
  const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)
  const files = []
  const metaDone = []
  let written = 0
  let blobId = ''
  try {
    for (const b of m.blobs) {
      blobId = b.id
      let plain = openBlob(data.subarray(b.start, b.start + b.length))
      if (b.uncompressedLength) {
        // decompress into a reused buffer: the plaintext only lives until it is written
        if (scratch.length < b.uncompressedLength) scratch = Buffer.allocUnsafeSlow(Math.max(b.uncompressedLength, 1 << 20))
        const n = dctx.decompress(scratch.subarray(0, b.uncompressedLength), plain)
        if (n !== b.uncompressedLength) throw new JobError('IntegrityError', 'decompressed to ' + n + ' bytes, expected ' + b.uncompressedLength)
        plain = scratch.subarray(0, n)
      }
      if (m.verify && createHash('sha256').update(plain).digest('hex') !== b.id) {
        throw new JobError('IntegrityError', 'its content does not hash to its id')
      }
      if (plain.length !== b.dataLength) throw new JobError('IntegrityError', 'it has ' + plain.length + ' bytes, the index says ' + b.dataLength)
      let zero
      for (const t of b.targets) {
        if (t.skipZero) {
          if (zero === undefined) zero = plain.every((x) => x === 0)
          if (zero) { files.push(t.file); continue }
        }
        let fd
        try {
          fd = fs.openSync(pathOf(t.path), t.create ? CREATE : REOPEN, 0o600)
          let done = 0
          while (done < plain.length) done += fs.writeSync(fd, plain, done, plain.length - done, t.offset + done)
          if (t.meta) {
            // metadata is best effort here: the main thread sets what fails (and reports it)
            try {
              if (t.meta.uid !== undefined) fs.fchownSync(fd, t.meta.uid, t.meta.gid)
              fs.fchmodSync(fd, t.meta.mode)
              fs.futimesSync(fd, t.meta.atime, t.meta.mtime)
              metaDone.push(t.file)
            } catch {}
          }
        } catch (e) {
          throw new JobError('RestoreIo', 'cannot write ' + (typeof t.path === 'string' ? t.path : pathOf(t.path).toString()) + ': ' + e.message)
        } finally {
          if (fd !== undefined) fs.closeSync(fd)
        }
        written += plain.length
        files.push(t.file)
      }
    }
    parentPort.postMessage({ id: m.id, written, files, metaDone })
  } catch (e) {
    parentPort.postMessage({ id: m.id, written, files, metaDone, error: String((e && e.message) || e), code: e.code || 'Internal', blob: blobId })
  }
})
`

interface Job {
  resolve: (r: PoolResult) => void
  reject: (e: unknown) => void
  what: string
}

interface PoolWorker {
  worker: Worker
  jobs: Map<number, Job>
  dead?: Error
}

interface Reply {
  id: number
  written: number
  files: number[]
  metaDone: number[]
  error?: string
  code?: string
  blob?: string
}

/**
 * Worker threads that open blobs of pack ranges (MAC check, decrypt, decompress, id check) and write
 * them into the restored files, so that restore uses every core. Falls back (returns `undefined` from
 * {@link RestorePool.start}) when the native modules cannot be loaded in a worker or the self-test fails.
 */
export class RestorePool {
  private seq = 0
  private closed = false

  private constructor(private readonly workers: PoolWorker[]) {}

  /** Starts `n` workers for `key`; `undefined` if that is not possible here. */
  static async start(key: Key, n: number): Promise<RestorePool | undefined> {
    const workerData = workerKeyData(key)
    if (!workerData) return undefined
    const workers: PoolWorker[] = []
    for (let i = 0; i < n; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
      worker.unref()
      workers.push({ worker, jobs: new Map() })
    }
    const pool = new RestorePool(workers)
    for (const w of workers) {
      w.worker.on('message', (m: Reply) => pool.done(w, m))
      w.worker.on('error', (e) => pool.fail(w, e))
      w.worker.on('exit', (code) => pool.fail(w, new Error(`restore worker exited with code ${code}`)))
    }
    // self-test: a plain and a compressed blob sealed with the key must open to their ids
    try {
      const probe = new TextEncoder().encode('rustic-ts restore pool self-test '.repeat(8))
      const id = hashId(probe)
      const plainSealed = key.encrypt(probe)
      const zSealed = key.encrypt(compress(probe, 3))
      const data = new Uint8Array(plainSealed.length + zSealed.length)
      data.set(plainSealed, 0)
      data.set(zSealed, plainSealed.length)
      const blobs: PoolBlob[] = [
        { id, start: 0, length: plainSealed.length, dataLength: probe.length, targets: [] },
        { id, start: plainSealed.length, length: zSealed.length, uncompressedLength: probe.length, dataLength: probe.length, targets: [] },
      ]
      for (const w of workers) await pool.runOn(w, Uint8Array.prototype.slice.call(data), blobs, true, 'self-test')
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

  /**
   * Opens the blobs of a pack range and writes them on the least busy worker. `data` (the sealed range)
   * is transferred to the worker when it owns its whole buffer, else copied. Rejects with a
   * `RusticError` naming the blob, pack or file on the first problem.
   */
  run(data: Uint8Array, blobs: PoolBlob[], verify: boolean, what: string): Promise<PoolResult> {
    let best: PoolWorker | undefined
    for (const w of this.workers) if (!w.dead && (!best || w.jobs.size < best.jobs.size)) best = w
    return this.runOn(best ?? this.workers[0]!, data, blobs, verify, what)
  }

  /** Ends the workers; pending jobs fail. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }

  private runOn(w: PoolWorker, data: Uint8Array, blobs: PoolBlob[], verify: boolean, what: string): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new RusticError('Internal', 'the restore pool is closed'))
    if (w.dead) return Promise.reject(new RusticError('Internal', `a restore worker failed: ${w.dead.message}`, { cause: w.dead }))
    const id = this.seq++
    const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer
    const payload = own ? data : Uint8Array.prototype.slice.call(data)
    return new Promise<PoolResult>((resolve, reject) => {
      if (w.jobs.size === 0) w.worker.ref()
      w.jobs.set(id, { resolve, reject, what })
      w.worker.postMessage({ id, data: payload, blobs, verify }, [payload.buffer as ArrayBuffer])
    })
  }

  private done(w: PoolWorker, m: Reply): void {
    const job = w.jobs.get(m.id)
    if (!job) return
    w.jobs.delete(m.id)
    if (w.jobs.size === 0) w.worker.unref()
    if (m.error === undefined) return job.resolve({ written: m.written, files: m.files, metaDone: m.metaDone })
    const kind = m.code === 'RestoreIo' ? 'InputOutput' : m.code === 'MacMismatch' ? 'Cryptography' : 'Verification'
    const where = m.code === 'RestoreIo' ? '' : `data blob ${m.blob} in ${job.what}: `
    const err = new RusticError(kind, `${where}${m.error}`, { code: toErrorCode(m.code, 'Internal') })
    Object.assign(err, { partial: { written: m.written, files: m.files, metaDone: m.metaDone } })
    job.reject(err)
  }

  private fail(w: PoolWorker, e: Error): void {
    if (w.dead) return
    w.dead = e
    for (const job of w.jobs.values()) job.reject(new RusticError('Internal', `a restore worker failed: ${e.message}`, { cause: e }))
    w.jobs.clear()
  }
}
