/**
 * The seal worker program (see `SealPool`). It seals exactly as `DecryptBackend.sealBlob` does: zstd
 * (with the pool's provider, compressed into the output buffer), then `Key.encryptInto` (encrypted in place); the pool
 * checks its output with `Key.decrypt` at start. With a chunker it also stores whole files: it reads them,
 * cuts them with `CutSearch` (the chunker's cut search, as on the main thread), hashes the chunks, asks the pool which
 * are new and seals those into memory shared with the pool.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { CutSearch } from '../chunker/CutSearch.js'
import { zstdBuffers } from '../compression/Zstd.js'
import { fsErrorReason } from '../error/fsErrorReason.js'
import { CIPHERTEXT_OVERHEAD, Key } from '../crypto/Key.js'
import { hashId, type Id } from '../id/Id.js'
import type { ClaimAnswer, FileReport, ParentChunks, SealRequest, SealWorkerData, SealWorkerIn, SealWorkerOut, StoreFilesRequest } from './seal.protocol.js'
import { workerPort } from './workerPort.js'

const port = workerPort<SealWorkerIn, SealWorkerOut, SealWorkerData>()
const setup = port.data
const key = Key.fromMasterKeyJson(setup.key)
setup.key.encrypt = setup.key.mac.k = setup.key.mac.r = ''
const level = setup.level
const zstd = level === null ? undefined : zstdBuffers(setup.zstd)
if (level !== null && zstd === undefined) throw new Error(`the zstd provider ${setup.zstd} cannot be loaded in the seal worker`)

// --- sealing ----------------------------------------------------------------------------------------
// Buffers of 128 KiB and more are never dropped here: once glibc frees one such mmapped buffer it raises its
// mmap threshold to that size and puts later buffers in its arenas, which fragment and never shrink. So the
// cipher's pieces stay small, and large buffers are made once and reused.
const PIECE = 64 << 10
// Every piece the cipher gives is a new buffer, garbage at once. V8 collects it only once the garbage adds up
// to tens of MiB, so the worker asks for a young-generation collection every GC_EVERY bytes encrypted (the
// pool starts it with `gc` exposed; without it, V8 collects on its own).
const GC_EVERY = 2 << 20
const collect = globalThis.gc
let encrypted = 0

/** Encrypts `plain` into `out` at `at` (IV, ciphertext, MAC); `plain` may be `out`'s bytes at `at + 16`. */
function encryptInto(plain: Uint8Array, out: Uint8Array, at: number): number {
  const n = key.encryptInto(plain, out, at, PIECE)
  encrypted += plain.length
  if (encrypted >= GC_EVERY && collect) {
    encrypted = 0
    collect({ type: 'minor' })
  }
  return n
}

/** The room one blob of `length` bytes takes sealed, at most. */
function sealedBound(length: number): number {
  return (zstd !== undefined && length > 0 ? zstd.compressBound(length) : length) + CIPHERTEXT_OVERHEAD
}

/**
 * Seals `data` into `out` at `at` (with room for `sealedBound`): zstd-compressed there, then encrypted in
 * place. Returns the sealed length and the uncompressed length (-1 if not compressed).
 */
function sealInto(data: Uint8Array, out: Uint8Array, at: number): { n: number; ul: number } {
  if (zstd === undefined || level === null || data.length === 0) return { n: encryptInto(data, out, at), ul: -1 }
  const room = out.subarray(at + 16, at + 16 + zstd.compressBound(data.length))
  const z = zstd.compressInto(room, data, level)
  return { n: encryptInto(room.subarray(0, z), out, at), ul: data.length }
}

/** Seals blobs into `buf` one after the other. */
function sealAll(blobs: readonly Uint8Array[], buf: Uint8Array): { sealed: Uint8Array; lengths: number[]; uls: number[] } {
  const lengths: number[] = []
  const uls: number[] = []
  let pos = 0
  for (const data of blobs) {
    const { n, ul } = sealInto(data, buf, pos)
    lengths.push(n)
    uls.push(ul)
    pos += n
  }
  return { sealed: buf.subarray(0, pos), lengths, uls }
}

function seal(m: SealRequest): void {
  try {
    const blobs: Uint8Array[] = []
    let off = 0
    let room = 0
    for (const n of m.lengths) {
      blobs.push(m.data.subarray(off, off + n))
      off += n
      room += sealedBound(n)
    }
    const buf = Buffer.allocUnsafeSlow(room) // its own ArrayBuffer: transferred
    const { sealed, lengths, uls } = sealAll(blobs, buf)
    const view = new Uint8Array(buf.buffer, 0, sealed.length)
    port.post({ type: 'sealed', id: m.id, sealed: view, lengths, uls }, [buf.buffer])
  } catch (e) {
    port.post({ type: 'sealFailed', id: m.id, message: fsErrorReason(e) })
  }
}

// --- sealed chunks of files, in the memory shared with the pool -----------------------------------------
// Claimed chunks go out sealed in the slots of outMem. The pool gives a slot back once the packer has written
// its blobs; with none free that fits, sealing waits, so a slow packer holds the worker back.
const outSizes = setup.outSizes
let outAt = 0
const outOffsets = outSizes.map((n) => ((outAt += n), outAt - n))
const freeOut = outSizes.map((_, i) => i)
// A batch takes up to JOB_CAP bytes (the smallest slot; a chunk that needs more goes alone, into a slot with room
// for the largest chunk): a slot's memory is touched only as far as its batches reach, so the slots take ~2 MiB
// of RAM each unless large chunks come, and those take turns with one slot.
const JOB_CAP = Math.min(...outSizes)

/** A batch of claimed chunks waiting for a slot. */
interface SealJob {
  chunks: Uint8Array[]
  ids: Id[]
  sizes: number[]
  slots: Slot[]
  more: boolean
  cap: number
}
const sealQueue: SealJob[] = []

/** Seals the queued batches in order, each into the smallest free slot it fits in. */
function pump(): void {
  while (sealQueue.length > 0) {
    const job = sealQueue[0]!
    let best = -1
    for (let j = 0; j < freeOut.length; j++) {
      const k = freeOut[j]!
      if (outSizes[k]! >= job.cap && (best < 0 || outSizes[k]! < outSizes[freeOut[best]!]!)) best = j
    }
    if (best < 0) return
    const k = freeOut.splice(best, 1)[0]!
    sealQueue.shift()
    const { sealed, lengths, uls } = sealAll(job.chunks, new Uint8Array(setup.outMem, outOffsets[k]!, outSizes[k]!))
    port.post({ type: 'stored', slot: k, length: sealed.length, ids: job.ids, lengths, uls, sizes: job.sizes, more: job.more })
    job.slots.forEach(unref)
  }
}

// --- file bytes ---------------------------------------------------------------------------------------
// File bytes are read into reused buffers ("slots", counted references), never into one buffer per file:
// buffers dropped to the garbage collector pile up for a long time in a worker that allocates few objects.
// - Small files share slabs, filled one after the other; a slab is reused once no chunk in it waits for an answer.
// - Large files take turns with the worker's one large buffer, which has room for an unfinished chunk
//   (< maxSize) plus a block; before reading the next block into it, the file waits for the answers about the
//   chunks cut from it.
const chunking = setup.chunker
// The large buffer is touched as far as its longest unfinished chunk plus one read: 1 MiB reads took ~3 MiB off a
// full backup's peak (with the 1 MiB batch slot, `SealedSlots`) against 2 MiB ones, at the same CPU time.
const BLOCK = 1 << 20
// A slab stays until every chunk in it has been answered and sealed, so with answers out a worker holds a few:
// 2 MiB slabs held ~12 MiB less in all than 4 MiB ones (a full backup of the standard set), at the same CPU time.
const SLAB = 2 << 20
/** Files below this size (plus one byte, to see the end: at most a slab) are read into a slab. */
const SMALL = 1 << 20
const READ_BUF = (chunking?.options.maxSize ?? 0) + BLOCK
// The large buffer has room for the longest chunk and a block, but its unfinished chunk moves to the front as soon
// as this much is read: its pages past that are touched (and then resident) only for a chunk that long, so a
// worker's large buffer takes ~4-6 MiB of RAM instead of 10 (with restic's chunker, chunks above 4 MiB are rare).
// Each move waits for the answers about the chunks before it: at 4 MiB, one round trip per ~2-4 MiB read.
const COMPACT_AT = Math.min(READ_BUF, 4 << 20)

interface Slot {
  buf: Buffer
  used: number
  refs: number
  /** Called once the last chunk cut from a large slot is let go (refs back to 1). */
  idle: (() => void) | undefined
}
const spare = new Map<number, Buffer[]>([
  [SLAB, []],
  [READ_BUF, []],
])
function slot(size: number): Slot {
  return { buf: spare.get(size)!.pop() ?? Buffer.allocUnsafeSlow(size), used: 0, refs: 1, idle: undefined }
}
let largeMade = false
const largeWaiters: Array<() => void> = []
/** The large buffer, once no other file holds it. */
async function largeSlot(): Promise<Slot> {
  while (largeMade && spare.get(READ_BUF)!.length === 0) await new Promise<void>((f) => largeWaiters.push(f))
  largeMade = true
  return slot(READ_BUF)
}
function unref(t: Slot): void {
  if (--t.refs === 0) {
    spare.get(t.buf.length)?.push(t.buf)
    if (t.buf.length === READ_BUF) largeWaiters.shift()?.()
    else if (t.buf.length === SLAB) {
      slabsInUse--
      for (const f of slabWaiters.splice(0)) f()
    }
  } else if (t.refs === 1 && t.idle) {
    const f = t.idle
    t.idle = undefined
    f()
  }
}
let slab: Slot | undefined
// Small files are read as they come, and their chunks hold their slabs until answered and sealed (into two
// slots, one batch after the other): without a bound a worker had 6-7 slabs (12-14 MiB) in use at the peak of a
// full backup. A file that needs a new slab with MAX_SLABS in use waits for one to be let go. Two (4 MiB of small
// files in flight) took 6-9 MiB off a full backup's peak against four, at the same CPU and wall time (bench/README,
// "Peak RSS, round 6"); a worker waits for the main thread's answers a little more often.
const MAX_SLABS = 2
let slabsInUse = 0
const slabWaiters: Array<() => void> = []
/** True if a small file of `n` bytes (plus one) can be read into a slab now. */
function slabRoom(n: number): boolean {
  return (slab !== undefined && slab.used + n <= SLAB) || slabsInUse - (slab?.refs === 1 ? 1 : 0) < MAX_SLABS
}
/** A slot with `n` free bytes for a small file, and where they start (see {@link slabRoom}). */
function slabSpace(n: number): { t: Slot; at: number } {
  if (!slab || slab.used + n > SLAB) {
    if (slab) unref(slab)
    slab = slot(SLAB)
    slabsInUse++
  }
  const at = slab.used
  slab.used += n
  slab.refs++
  return { t: slab, at }
}

// --- queries: which chunks are new? ---------------------------------------------------------------------
interface Pending {
  ids: Id[]
  lengths: number[]
  /** The chunks' bytes and slots; undefined for a chunk the pool's index holds (answered "not new", not kept). */
  chunks: Array<Uint8Array | undefined>
  slots: Array<Slot | undefined>
  files: FileReport[]
}
let out: Pending = { ids: [], lengths: [], chunks: [], slots: [], files: [] }
let outScheduled = false
let querySeq = 0
const waiting = new Map<number, Pending>()

/**
 * Asks about a chunk cut from slot `t`; its bytes are kept until the answer unless `stored` (ids the pool's
 * index holds) names it: a large file then reads on without waiting for answers about its parent's chunks.
 */
function emit(chunk: Uint8Array, t: Slot, stored: ReadonlySet<string> | undefined): Id {
  const id = hashId(chunk)
  out.ids.push(id)
  out.lengths.push(chunk.length)
  if (stored?.has(id)) {
    out.chunks.push(undefined)
    out.slots.push(undefined)
  } else {
    out.chunks.push(chunk)
    out.slots.push(t)
    t.refs++
  }
  schedule()
  return id
}
/** Asks about a chunk of `length` bytes that the pool's index holds (answered "not new": its bytes are not kept). */
function emitStored(id: Id, length: number): Id {
  out.ids.push(id)
  out.lengths.push(length)
  out.chunks.push(undefined)
  out.slots.push(undefined)
  schedule()
  return id
}
function schedule(): void {
  if (!outScheduled) {
    outScheduled = true
    setImmediate(flushOut)
  }
}
function flushOut(): void {
  outScheduled = false
  const o = out
  out = { ids: [], lengths: [], chunks: [], slots: [], files: [] }
  const query = o.ids.length > 0 ? querySeq++ : -1
  if (query >= 0) waiting.set(query, o)
  port.post({ type: 'query', query, ids: o.ids, lengths: o.lengths, files: o.files })
}

/** Seals the claimed chunks of a query in batches that fit a slot (`more` on all but the last); lets the rest go. */
function answer(m: ClaimAnswer): void {
  const { chunks, ids, slots } = waiting.get(m.query)!
  waiting.delete(m.query)
  let job: SealJob | undefined
  const jobs: SealJob[] = []
  chunks.forEach((c, i) => {
    if (m.claims.charCodeAt(i) !== 49) {
      const t = slots[i]
      return t && unref(t)
    }
    // the pool's index held it when the file was sent, and its index only grows: a claim is a fault
    if (!c) throw new Error(`chunk ${ids[i]} was said to be stored, then claimed as new`)
    const n = sealedBound(c.length)
    if (!job || job.cap + n > JOB_CAP) jobs.push((job = { chunks: [], ids: [], sizes: [], slots: [], more: true, cap: 0 }))
    job.chunks.push(c)
    job.ids.push(ids[i]!)
    job.sizes.push(c.length)
    job.slots.push(slots[i]!)
    job.cap += n
  })
  if (job) job.more = false
  sealQueue.push(...jobs)
  pump()
}

// --- files ----------------------------------------------------------------------------------------------
/** Chunker states of files finished, for the next ones. */
const states: CutSearch[] = []

async function storeFile(id: number, path: Buffer, expected: number, parent: ParentChunks | undefined): Promise<void> {
  const stored = parent ? new Set<string>(parent.ids) : undefined
  const { minSize, maxSize } = chunking!.options
  /** The next of the parent's leading chunks to compare (see `ParentChunks`); `leading`: cut from here on. */
  let lead = 0
  const leading = parent?.leading ?? 0
  const content: Id[] = []
  let size = 0
  let fd: number | undefined
  let t: Slot | undefined
  const state = states.pop() ?? new CutSearch(chunking!.pol, chunking!.options)
  try {
    if (expected >= SMALL) t = await largeSlot()
    else while (!slabRoom(expected + 1)) await new Promise<void>((f) => slabWaiters.push(f))
    // O_NOFOLLOW: never read through a symlink put in place since the walk; O_NONBLOCK: never hang on a fifo.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('changed type since it was listed, refusing to read it'), { code: 'ChangedType' })
    let buf: Buffer
    if (t) buf = t.buf
    else {
      const space = slabSpace(expected + 1)
      t = space.t
      buf = t.buf.subarray(space.at, space.at + expected + 1)
    }
    /** Start of the current chunk in `buf`, end of the bytes the chunker has seen, end of the bytes read. */
    let s = 0
    let scanned = 0
    let end = 0
    let eof = false
    for (;;) {
      if (lead < leading) {
        const len = parent!.lengths[lead]!
        if (len < minSize || len > maxSize) lead = leading // not a chunk this chunker cuts: cut from here
        else if (end - s >= len) {
          const cid = hashId(buf.subarray(s, s + len))
          if (cid === parent!.ids[lead]) {
            content.push(emitStored(cid, len))
            size += len
            s = scanned = s + len
            lead++
            continue
          }
          lead = leading // the bytes differ from here on
        } else if (eof) lead = leading
      }
      if (lead >= leading && scanned < end) {
        const cut = state.findCut(buf, scanned, end)
        if (cut >= 0) {
          content.push(emit(buf.subarray(s, cut), t, stored))
          size += cut - s
          s = scanned = cut
          continue
        }
        scanned = end
      }
      if (eof) {
        if (end > s) {
          content.push(emit(buf.subarray(s, end), t, stored))
          size += end - s
        }
        break
      }
      if (end === buf.length || (end >= COMPACT_AT && s > 0 && buf === t.buf && t.buf.length === READ_BUF)) {
        // full (or, in the large buffer, past COMPACT_AT): move the unfinished chunk to the front of a large file's
        // buffer, once no chunk before it waits
        const held: Slot = t
        let next = held
        if (held.buf.length !== READ_BUF) next = await largeSlot()
        else if (held.refs > 1) await new Promise<void>((f) => (held.idle = f))
        else if (lead < leading) await new Promise<void>((f) => setImmediate(f)) // queries out, seal requests in
        buf.copy(next.buf, 0, s, end)
        if (next !== held) {
          unref(held)
          t = next
        }
        buf = next.buf
        end -= s
        scanned -= s
        s = 0
      }
      const n = readSync(fd, buf, end, Math.min(BLOCK, buf.length - end), null)
      if (n === 0) eof = true
      end += n
    }
    out.files.push({ id, content, size })
  } catch (e) {
    const code = e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined
    out.files.push({ id, error: fsErrorReason(e), code })
  } finally {
    state.reset()
    states.push(state)
    if (fd !== undefined) closeSync(fd)
    if (t) unref(t)
  }
  schedule()
}

function storeFiles(m: StoreFilesRequest): void {
  const paths = Buffer.from(m.paths.buffer, m.paths.byteOffset, m.paths.length)
  m.ids.forEach((id, i) => {
    void storeFile(id, paths.subarray(i === 0 ? 0 : m.ends[i - 1], m.ends[i]), m.expected[i]!, m.parents?.[i] ?? undefined)
  })
}

port.listen((m) => {
  switch (m.type) {
    case 'seal':
      return seal(m)
    case 'files':
      return storeFiles(m)
    // a failure to seal answered chunks is not one job's: it ends the worker (the pool fails every job)
    case 'answer':
      return answer(m)
    case 'recycle':
      freeOut.push(m.slot)
      return pump()
  }
})
