import { closeSync, constants, openSync, readSync, writeSync } from 'node:fs'
import type { ZstdBuffers } from '../compression/Zstd.js'
import type { Key } from '../crypto/Key.js'
import { isRepositoryDamage } from '../error/repositoryDamage.js'
import { isRusticError, RusticError } from '../error/RusticError.js'
import * as nodeCrypto from 'node:crypto'
import { hashId, type Id } from '../id/Id.js'
import { freeBuffer } from './freeBuffer.js'
import { openNewFile } from './openNewFile.js'
import { setFdMetadata } from './setFdMetadata.js'
import type { RestoreError, RestoreReply, RestoreRequest, RestoreTarget } from './restore.protocol.js'

/**
 * SHA-256 of a blob as its id: Node's one-shot `crypto.hash` where there is one (Node 20.12 and later), which
 * makes no `Hash` object per blob (a native handle for the young-generation collector to visit), else `hashId`.
 */
const blobId: (data: Uint8Array) => Id =
  typeof nodeCrypto.hash === 'function' ? (data) => nodeCrypto.hash('sha256', data, 'hex') as Id : (data) => hashId(data)

const REOPEN = constants.O_WRONLY | constants.O_NOFOLLOW

// Memory: nothing of the size of a blob or a range is dropped here. Blobs are decrypted in place in the
// range, in pieces of 64 KiB (`decryptPieces`' default: the cipher makes a new buffer for each), and
// decompressed into `scratch`, which is reused. Each piece is freed (`freeBuffer`) as soon as it is copied, so
// the allocator hands the same memory to the next one: left to the garbage collector, tens of MiB of pieces
// were freed together, glibc gave the pages back, and the next pieces faulted them in again (about one page
// fault per 4 KiB decrypted). What `freeBuffer` cannot free is collected by a young-generation collection
// every GC_EVERY bytes where `gc` is exposed (the restore pool starts its workers so; elsewhere V8 collects on its own).
const GC_EVERY = 8 << 20

/**
 * A new buffer of `size` bytes in place of `old`, whose memory is given back now (`freeBuffer`): an outgrown
 * buffer lives in the old generation, which a young-generation collection does not sweep, so left to the
 * collector the 1, 2 and 4 MiB steps of a scratch buffer grown to 8 MiB stayed mapped (~7 MiB a thread).
 */
function grown(old: Buffer, size: number): Buffer<ArrayBuffer> {
  freeBuffer(old)
  return Buffer.allocUnsafeSlow(size)
}

function fsPath(p: string | Uint8Array): string | Buffer {
  return typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength)
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

function errorOf(e: unknown): RestoreError {
  return isRusticError(e) ? { kind: e.kind, code: e.code, message: e.message } : { kind: 'Internal', code: 'Internal', message: message(e) }
}

/**
 * Does a restore job ({@link RestoreRequest}) on the calling thread: opens the blobs of a pack range with
 * `Key.decryptPieces` (MAC check, AES-256-CTR) in place, decompresses them into one reused buffer, checks
 * them, and writes the plaintext to its places with synchronous positioned writes (never following a
 * symlink). The restore worker program runs its jobs with one; restore's main thread runs some with its own
 * while every worker is busy. Leaves `data` to the caller. A job with `file` reads its range itself, a window
 * at a time, into a buffer the restorer keeps for the next job.
 */
export class RangeRestorer {
  /** Decompressed blobs go here: the plaintext only lives until it is written. */
  private scratch = Buffer.alloc(0)
  private decrypted = 0
  /** For jobs with `file`: the bytes read from it, which are those of the range from `winStart` to `winEnd`. */
  private window = Buffer.alloc(0)
  private winJob: RestoreRequest | undefined
  private winStart = 0
  private winEnd = 0

  constructor(
    private readonly key: Key,
    private readonly zstd: ZstdBuffers,
    /** A young-generation collection (`gc({ type: 'minor' })`), where exposed. */
    private readonly collect?: (options: { type: 'minor' }) => void,
  ) {}

  /** Opens and writes every blob of `m` (all but damaged ones, up to the first problem that stops the job). */
  run(m: RestoreRequest): RestoreReply {
    const reply = RangeRestorer.reply(m)
    for (let i = 0; i < m.blobs.length; ) i = this.step(m, reply, i, Infinity)
    return reply
  }

  /** An empty reply to `m`, for {@link RangeRestorer.step}. */
  static reply(m: RestoreRequest): RestoreReply {
    return { id: m.id, written: 0, files: [], metaDone: [], damaged: [] }
  }

  /**
   * Does the blobs of `m` from blob `from` on, into `reply`, until at least `budget` sealed bytes are done
   * (a thread with other work does a range in steps); returns the next blob to do, `m.blobs.length` when
   * all are done or a problem stopped the job (`reply.failure`).
   */
  step(m: RestoreRequest, reply: RestoreReply, from: number, budget: number): number {
    let i = from
    let done = 0
    try {
      for (; i < m.blobs.length && done < budget; i++) {
        const b = m.blobs[i]!
        done += b.length
        const sealed = m.file ? this.fromFile(m, i, reply) : m.data.subarray(b.start, b.start + b.length)
        if (sealed === undefined) {
          reply.unreadFrom = i
          i = m.blobs.length
          break
        }
        let plain: Uint8Array
        try {
          plain = this.openBlob(sealed, `data blob ${b.id} in ${m.what}`, b.uncompressedLength, b.dataLength, b.id, m.verify)
        } catch (e) {
          // damaged data spoils this blob only: the others of the range are restored
          if (!isRepositoryDamage(e)) throw e
          reply.damaged.push({ blob: i, error: errorOf(e) })
          continue
        }
        let zero: boolean | undefined
        for (const t of b.targets) {
          if (t.skipZero) {
            zero ??= plain.every((x) => x === 0)
            if (zero) {
              reply.files.push(t.file)
              continue
            }
          }
          if (this.writeTarget(t, plain)) reply.metaDone.push(t.file)
          reply.written += plain.length
          reply.files.push(t.file)
        }
      }
    } catch (e) {
      reply.failure = errorOf(e)
      i = m.blobs.length
    }
    if (i >= m.blobs.length) this.winJob = undefined
    return i
  }

  /**
   * The sealed bytes of blob `i` of a job with `file`, read from the file into the window when they are not
   * there yet (from the blob's start, as many whole blobs as fit in `file.window` bytes, at least this one);
   * `undefined` when the file cannot give them all (the caller reads the rest through the backend).
   */
  private fromFile(m: RestoreRequest, i: number, reply: RestoreReply): Uint8Array | undefined {
    const f = m.file!
    const b = m.blobs[i]!
    if (this.winJob !== m || b.start < this.winStart || b.start + b.length > this.winEnd) {
      this.winJob = undefined
      const start = b.start
      let end = start + b.length
      for (let j = i + 1; j < m.blobs.length; j++) {
        const next = m.blobs[j]!
        if (next.start < start || next.start + next.length - start > f.window) break
        end = Math.max(end, next.start + next.length)
      }
      if (end > f.length) return undefined
      const n = end - start
      // (one buffer per thread, grown to the largest window: reused, so it is mapped and faulted in once; the
      // one it outgrew is given back at once, not left to a major collection)
      if (this.window.length < n) this.window = grown(this.window, Math.max(n, Math.min(f.window, 2 * this.window.length)))
      let fd: number | undefined
      try {
        fd = openSync(f.path, constants.O_RDONLY)
        let got = 0
        while (got < n) {
          const k = readSync(fd, this.window, got, n - got, f.offset + start + got)
          if (k === 0) return undefined // cut short: the backend's read reports it
          got += k
        }
      } catch {
        return undefined // (missing, unreadable: likewise)
      } finally {
        if (fd !== undefined) closeSync(fd)
      }
      reply.read = (reply.read ?? 0) + n
      this.winJob = m
      this.winStart = start
      this.winEnd = end
    }
    return this.window.subarray(b.start - this.winStart, b.start - this.winStart + b.length)
  }

  /** The plaintext of a blob, checked against its length (and id, with `verify`). */
  private openBlob(sealed: Uint8Array, what: string, uncompressedLength: number | undefined, dataLength: number, id: string, verify: boolean): Uint8Array {
    // decrypted in place: the plaintext takes the ciphertext's place, 16 bytes (the IV) after the blob's start
    let at = 16
    const n = this.key.decryptPieces(sealed, what, (piece) => {
      sealed.set(piece, at)
      at += piece.length
      freeBuffer(piece) // (the next piece takes its memory, still mapped, instead of new pages)
    })
    let plain = sealed.subarray(16, 16 + n)
    this.decrypted += n
    if (this.decrypted >= GC_EVERY && this.collect) {
      this.decrypted = 0
      this.collect({ type: 'minor' })
    }
    if (uncompressedLength) {
      // (grown by doubling: each new buffer is mapped and faulted in afresh, the old one given back at once)
      if (this.scratch.length < uncompressedLength) this.scratch = grown(this.scratch, Math.max(uncompressedLength, 2 * this.scratch.length, 1 << 20))
      let n: number
      try {
        n = this.zstd.decompressInto(this.scratch.subarray(0, uncompressedLength), plain)
      } catch (e) {
        throw new RusticError('Repository', `cannot decompress ${what} (expected ${uncompressedLength} bytes): ${message(e)}`, { code: 'DecodeError' })
      }
      if (n !== uncompressedLength) {
        throw new RusticError('Repository', `cannot decompress ${what}: got ${n} bytes, expected ${uncompressedLength}`, { code: 'DecodeError' })
      }
      plain = this.scratch.subarray(0, n)
    }
    if (verify && blobId(plain) !== id) {
      throw new RusticError('Verification', `${what} is corrupted: its content does not hash to its id`, { code: 'IntegrityError' })
    }
    if (plain.length !== dataLength) {
      throw new RusticError('Verification', `${what} has ${plain.length} bytes, the index says ${dataLength}`, { code: 'IntegrityError' })
    }
    return plain
  }

  /** Writes `plain` at the target; returns true if the file's metadata was set too. */
  private writeTarget(t: RestoreTarget, plain: Uint8Array): boolean {
    const path = fsPath(t.path)
    let fd: number | undefined
    try {
      let created = false
      if (t.create) ({ fd, created } = openNewFile(path, t.meta))
      else fd = openSync(path, REOPEN)
      let done = 0
      while (done < plain.length) done += writeSync(fd, plain, done, plain.length - done, t.offset + done)
      // metadata is best effort here: the main thread sets what fails (and reports it)
      return t.meta !== undefined && setFdMetadata(fd, t.meta, created)
    } catch (e) {
      throw new RusticError('InputOutput', `cannot write ${path.toString()}: ${message(e)}`, { code: 'RestoreIo', cause: e })
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }
}
