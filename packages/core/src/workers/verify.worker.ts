/**
 * The verify worker program (see `VerifyPool`): verifies packs for `check --read-data` as they come in
 * pieces, with the same `PackVerifier` as the main thread — the SHA-256 of the pack, its header against the
 * index, every blob opened, decompressed and hashed through small reused buffers — and answers each
 * piece once it is done with it.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { BlobVerifier } from '../commands/check/BlobVerifier.js'
import { PackVerifier } from '../commands/check/PackVerifier.js'
import { planPackReads } from '../commands/check/planPackReads.js'
import { Key } from '../crypto/Key.js'
import type { Id } from '../id/Id.js'
import type { IndexBlob } from '../repofile/IndexFile.js'
import type { PackBlob } from '../repofile/PackHeader.js'
import { readPackHeaderWith } from '../blob/readPackHeader.js'
import type { PackPart } from '../commands/check/PackVerifier.js'
import type { VerifyFile, VerifyHead, VerifyReply, VerifyWorkerData, VerifyWorkerIn } from './verify.protocol.js'
import { freeBuffer } from './freeBuffer.js'
import { workerPort } from './workerPort.js'

const port = workerPort<VerifyWorkerIn, VerifyReply, VerifyWorkerData>()

const key = Key.fromMasterKeyJson(port.data.key)
port.data.key.encrypt = port.data.key.mac.k = port.data.key.mac.r = ''
// zstd-napi's streaming zstd where it loads; else each compressed blob is decompressed whole by the provider in use
const opener = new BlobVerifier(key)

/** The packs being verified, with their tails. */
const streams = new Map<number, { verifier: PackVerifier; tail: Uint8Array }>()

function stream(id: number): PackVerifier {
  const s = streams.get(id)
  if (s === undefined) throw new Error(`no pack stream ${id}`)
  return s.verifier
}

/** Forgets a stream, freeing its tail. */
function drop(id: number): void {
  const s = streams.get(id)
  if (s === undefined) return
  streams.delete(id)
  freeBuffer(s.tail)
}

/**
 * Pieces up to this size are read into the two reused buffers; a larger piece (a blob larger than this) gets a
 * buffer of its own, freed once verified. The buffers are made at this size but only the pages a piece was read
 * into are memory (a fresh buffer's are not, until written): each holds as much as the largest piece it took.
 * `check`'s pieces are of 1 MiB with the default memory, but a blob larger than that is a piece of its own (at
 * scale 1 of the standard data set, 88 of 247 pieces, 151 of 272 MiB): reading each into a fresh buffer cost a
 * page fault per 4 KiB, the zeroing of the pages and their unmapping (~0.1 s of CPU at that scale).
 */
const KEPT_BUFFER = 4 << 20
/** The two buffers file jobs read pieces into, in turn: one is verified while the next piece is read into the other. */
const buffers: Array<Buffer | undefined> = [undefined, undefined]
/** The file jobs, one after the other. */
let files: Promise<void> = Promise.resolve()
/** Tickets of file jobs withdrawn before they began. */
const withdrawn = new Set<number>()

/** A buffer of at least `length` bytes for the `n`-th piece of a file job (see {@link buffers}). */
function bufferFor(n: number, length: number): Buffer {
  if (length > KEPT_BUFFER) return Buffer.allocUnsafeSlow(length)
  const i = n % 2
  return (buffers[i] ??= Buffer.allocUnsafeSlow(KEPT_BUFFER))
}

/** A read of a pack file that failed (the file is gone, shorter than listed, unreadable). */
class FileReadError extends Error {}

/** Reads exactly `length` bytes at `position` of `fh` into the start of `into`; a view of them. */
async function readAt(fh: FileHandle, into: Uint8Array, length: number, position: number): Promise<Uint8Array> {
  let done = 0
  while (done < length) {
    let bytesRead: number
    try {
      ;({ bytesRead } = await fh.read(into, done, length - done, position + done))
    } catch (e) {
      throw new FileReadError((e as Error).message)
    }
    if (bytesRead === 0) throw new FileReadError(`the file ends before byte ${position + length}`)
    done += bytesRead
  }
  return into.subarray(0, length)
}

/**
 * The reply to file job `id`: what `work` gives, done with the file `path` open (closed afterwards); a read
 * that failed is a `readError`, any other failure an `error`.
 */
async function fileJob(id: number, path: string, work: (file: FileHandle) => Promise<Partial<VerifyReply>>): Promise<VerifyReply> {
  let fh: FileHandle | undefined
  try {
    try {
      fh = await open(path, 'r')
    } catch (e) {
      throw new FileReadError((e as Error).message)
    }
    return { id, ...(await work(fh)) }
  } catch (e) {
    if (e instanceof FileReadError) return { id, readError: e.message }
    return { id, error: e instanceof Error ? e.message : String(e) }
  } finally {
    await fh?.close().catch(() => {})
  }
}

/** Reads `pieces` of `file` in order and gives each to `take`: the next one is read while `take` has this one. */
async function eachPiece(file: FileHandle, pieces: ReadonlyArray<{ offset: number; length: number }>, take: (piece: Uint8Array) => void): Promise<void> {
  const read = (n: number): Promise<Uint8Array> => readAt(file, bufferFor(n, pieces[n]!.length), pieces[n]!.length, pieces[n]!.offset)
  let next = pieces.length > 0 ? read(0) : undefined
  try {
    for (let n = 0; n < pieces.length; n++) {
      const piece = await next!
      next = n + 1 < pieces.length ? read(n + 1) : undefined
      take(piece)
      // (a buffer of its own goes back at once)
      if (piece.length > KEPT_BUFFER) freeBuffer(piece)
    }
  } finally {
    // (a read still going on must be done before its buffer is used again or the file closed)
    await next?.catch(() => {})
  }
}

/**
 * Verifies pack `packId` of `size` bytes, indexed as `blobs`, from `file`: its tail (from `tailStart`) first, then
 * `pieces` (the next one read while this one is verified).
 */
async function verifyFrom(
  file: FileHandle,
  packId: Id,
  size: number,
  blobs: IndexBlob[],
  tailStart: number,
  pieces: ReadonlyArray<{ offset: number; length: number }>,
  part?: PackPart,
  hashed?: boolean,
): Promise<VerifyReply['verification']> {
  const tail = await readAt(file, new Uint8Array(size - tailStart), size - tailStart, tailStart)
  const verifier = new PackVerifier(key, packId, size, blobs, tailStart, tail, opener, part, undefined, hashed)
  await eachPiece(file, pieces, (piece) => verifier.push(piece))
  return verifier.finish()
}

/** Does a {@link VerifyFile} job: reads the pack file (the next piece while this one is verified) and verifies it. */
function verifyFile(m: VerifyFile): Promise<VerifyReply> {
  return fileJob(m.id, m.path, async (file) => ({ verification: await verifyFrom(file, m.packId, m.size, m.blobs, m.tailStart, m.pieces, m.part, m.hashed) }))
}

/**
 * The entries of the header of the pack of `size` bytes in `file` (see `readPackHeaderWith`); `undefined` if it
 * cannot be decrypted, parsed or does not account for the whole pack. A failed read is thrown.
 */
async function readHead(file: FileHandle, size: number, packId: Id): Promise<PackBlob[] | undefined> {
  try {
    return await readPackHeaderWith((offset, length) => readAt(file, new Uint8Array(length), length, offset), key, packId, size)
  } catch (e) {
    if (e instanceof FileReadError) throw e
    return undefined
  }
}

/**
 * Does a {@link VerifyHead} job: reads the pack's header and, if it lists data blobs only, verifies the pack with
 * those entries as its index entries (the main thread compares them with the index's).
 */
function verifyHead(m: VerifyHead): Promise<VerifyReply> {
  return fileJob(m.id, m.path, async (file) => {
    const head = await readHead(file, m.size, m.packId)
    if (head === undefined || head.length === 0 || head.some((b) => b.type !== 'data')) return {}
    const { tailStart, pieces } = planPackReads(m.size, head, m.pieceBytes)
    return { verification: await verifyFrom(file, m.packId, m.size, head, tailStart, pieces), head }
  })
}

port.listen((m) => {
  if (m.type === 'withdraw') return void withdrawn.add(m.ticket)
  if (m.type === 'file') {
    files = files.then(async () => {
      if (withdrawn.delete(m.ticket)) return port.post({ id: m.id, withdrawn: true })
      port.post(await verifyFile(m))
    })
    return
  }
  if (m.type === 'head') {
    files = files.then(async () => port.post(await verifyHead(m)))
    return
  }
  if (m.type === 'drop') return drop(m.stream)
  const reply: VerifyReply = { id: m.id }
  try {
    if (m.type === 'begin') {
      streams.set(m.stream, { verifier: new PackVerifier(key, m.packId, m.size, m.blobs, m.tailStart, m.tail, opener, m.part, undefined, m.hashed), tail: m.tail })
    } else if (m.type === 'piece') {
      // the piece is checked and hashed: its memory goes back at once
      stream(m.stream).push(m.data)
      freeBuffer(m.data)
    } else {
      reply.verification = stream(m.stream).finish()
      drop(m.stream)
    }
  } catch (e) {
    drop(m.stream)
    reply.error = e instanceof Error ? e.message : String(e)
  }
  port.post(reply)
})
