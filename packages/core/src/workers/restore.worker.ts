/**
 * The restore worker program (see `RestorePool`): opens the blobs of a pack range with `Key.decrypt` (MAC
 * check, AES-256-CTR), decompresses them into one reused buffer, checks them, and writes the plaintext to
 * its places with synchronous positioned writes (never following a symlink).
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs'
import { zstdBuffers } from '../compression/Zstd.js'
import { Key } from '../crypto/Key.js'
import { isRepositoryDamage } from '../error/repositoryDamage.js'
import { isRusticError, RusticError } from '../error/RusticError.js'
import { hashId } from '../id/Id.js'
import { freeBuffer } from './freeBuffer.js'
import { setFdMetadata } from './setFdMetadata.js'
import type { RestoreError, RestoreReply, RestoreRequest, RestoreTarget, RestoreWorkerData } from './restore.protocol.js'
import { workerPort } from './workerPort.js'

const port = workerPort<RestoreRequest, RestoreReply, RestoreWorkerData>()
const key = Key.fromMasterKeyJson(port.data.key)
port.data.key.encrypt = port.data.key.mac.k = port.data.key.mac.r = ''
const zstd = zstdBuffers(port.data.zstd)
if (zstd === undefined) throw new Error(`the zstd provider ${port.data.zstd} cannot be loaded in the restore worker`)

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW
const REOPEN = constants.O_WRONLY | constants.O_NOFOLLOW

/** Decompressed blobs go here: the plaintext only lives until it is written. */
let scratch = Buffer.alloc(0)

// Memory: nothing of the size of a blob or a range is dropped here. Blobs are decrypted in place in the
// range (which the main thread transferred and which is given back with `freeBuffer` once done), in pieces of
// 64 KiB (`decryptPieces`' default: the cipher makes a new buffer for each), and decompressed into `scratch`, which is reused.
// Each piece is freed (`freeBuffer`) as soon as it is copied, so the allocator hands the same memory to the
// next one: left to the garbage collector, tens of MiB of pieces were freed together, glibc gave the pages
// back, and the next pieces faulted them in again (about one page fault per 4 KiB decrypted). What
// `freeBuffer` cannot free is collected by a young-generation collection every GC_EVERY bytes (the pool
// starts the worker with `gc` exposed; without it, V8 collects on its own).
const GC_EVERY = 8 << 20
const collect = globalThis.gc
let decrypted = 0

function fsPath(p: string | Uint8Array): string | Buffer {
  return typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength)
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** The plaintext of a blob, checked against its length (and id, with `verify`). */
function openBlob(sealed: Uint8Array, what: string, uncompressedLength: number | undefined, dataLength: number, id: string, verify: boolean): Uint8Array {
  // decrypted in place: the plaintext takes the ciphertext's place, 16 bytes (the IV) after the blob's start
  let at = 16
  const n = key.decryptPieces(sealed, what, (piece) => {
    sealed.set(piece, at)
    at += piece.length
    freeBuffer(piece) // (the next piece takes its memory, still mapped, instead of new pages)
  })
  let plain = sealed.subarray(16, 16 + n)
  decrypted += n
  if (decrypted >= GC_EVERY && collect) {
    decrypted = 0
    collect({ type: 'minor' })
  }
  if (uncompressedLength) {
    // (grown by doubling: each new buffer is mapped and faulted in afresh)
    if (scratch.length < uncompressedLength) scratch = Buffer.allocUnsafeSlow(Math.max(uncompressedLength, 2 * scratch.length, 1 << 20))
    let n: number
    try {
      n = zstd!.decompressInto(scratch.subarray(0, uncompressedLength), plain)
    } catch (e) {
      throw new RusticError('Repository', `cannot decompress ${what} (expected ${uncompressedLength} bytes): ${message(e)}`, { code: 'DecodeError' })
    }
    if (n !== uncompressedLength) {
      throw new RusticError('Repository', `cannot decompress ${what}: got ${n} bytes, expected ${uncompressedLength}`, { code: 'DecodeError' })
    }
    plain = scratch.subarray(0, n)
  }
  if (verify && hashId(plain) !== id) {
    throw new RusticError('Verification', `${what} is corrupted: its content does not hash to its id`, { code: 'IntegrityError' })
  }
  if (plain.length !== dataLength) {
    throw new RusticError('Verification', `${what} has ${plain.length} bytes, the index says ${dataLength}`, { code: 'IntegrityError' })
  }
  return plain
}

/** Writes `plain` at the target; returns true if the file's metadata was set too. */
function writeTarget(t: RestoreTarget, plain: Uint8Array): boolean {
  const path = fsPath(t.path)
  let fd: number | undefined
  try {
    fd = openSync(path, t.create ? CREATE : REOPEN, 0o600)
    let done = 0
    while (done < plain.length) done += writeSync(fd, plain, done, plain.length - done, t.offset + done)
    // metadata is best effort here: the main thread sets what fails (and reports it)
    return t.meta !== undefined && setFdMetadata(fd, t.meta)
  } catch (e) {
    throw new RusticError('InputOutput', `cannot write ${path.toString()}: ${message(e)}`, { code: 'RestoreIo', cause: e })
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

function errorOf(e: unknown): RestoreError {
  return isRusticError(e) ? { kind: e.kind, code: e.code, message: e.message } : { kind: 'Internal', code: 'Internal', message: message(e) }
}

port.listen((m) => {
  const reply: RestoreReply = { id: m.id, written: 0, files: [], metaDone: [], damaged: [] }
  try {
    for (let i = 0; i < m.blobs.length; i++) {
      const b = m.blobs[i]!
      let plain: Uint8Array
      try {
        plain = openBlob(m.data.subarray(b.start, b.start + b.length), `data blob ${b.id} in ${m.what}`, b.uncompressedLength, b.dataLength, b.id, m.verify)
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
        if (writeTarget(t, plain)) reply.metaDone.push(t.file)
        reply.written += plain.length
        reply.files.push(t.file)
      }
    }
  } catch (e) {
    reply.failure = errorOf(e)
  }
  if (!m.shared) freeBuffer(m.data)
  port.post(reply)
})
