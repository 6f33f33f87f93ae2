import { wasmScanBlocks } from '../chunker/ChunkerWasm.js'
import { WORKER_KEY_SOURCE } from '../crypto/workerKey.js'

/**
 * The program of a {@link SealPool} worker thread, as CommonJS source text (so that it runs from the
 * sources and from the bundle alike). It seals exactly as `DecryptBackend.sealBlob` does: zstd via
 * zstd-napi's binding, then `Key.encrypt` (AES-256-CTR + Poly1305-AES via sodium-native); the pool
 * checks its output with `Key.decrypt` at start.
 *
 * Messages in:
 * - `{ id, data }`: seal one blob; `{ id, data, lengths }`: seal a batch of blobs held in one buffer.
 * - `{ files: { ids, expected, paths, ends } }`: store files (paths concatenated in one buffer): read each
 *   (not following symlinks), cut it with the chunker, hash the chunks and ask the pool which are new
 *   (`query` out); the chunks the pool claims are sealed and sent back (`stored` out). A file's content
 *   ids go out with its last query.
 * - `{ answer, claims }`: the pool's answer to a query: one character per blob, '1' = seal and send it.
 * - `{ recycle }`: the slot of a `stored` message, given back once the pool is done with it.
 *
 * Messages out:
 * - `{ id, sealed, ul }` / `{ id, sealed, lengths, uls }`: sealed blob(s); `{ id, error }`.
 * - `{ query, ids, lengths, files }`: new chunks (hex ids and lengths, in order), and finished files:
 *   `{ id, content, size }` or `{ id, fileError, code }`. One message per turn of the worker's event loop.
 * - `{ stored, length, ids, uls, lengths, sizes, more }`: claimed blobs of one answer, sealed, one after the
 *   other in slot `stored` of the shared `outMem` (`lengths` stored sizes, `uls` uncompressed lengths or -1,
 *   `sizes` plaintext sizes); `more` on all but the answer's last batch.
 */
export const SEAL_WORKER_SOURCE = `'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { createCipheriv, createHash, randomFillSync } = require('node:crypto')
const fs = require('node:fs')
${WORKER_KEY_SOURCE}
const binding = workerData.level === null ? null : require(workerData.zstd)
const cctx = binding ? new binding.CCtx() : null
// Buffers of 128 KiB and more are never dropped here: once glibc frees one such mmapped buffer it raises its
// mmap threshold to that size and puts later buffers in its arenas, which fragment and never shrink. So pieces
// stay small, and large buffers are made once and reused.
const PIECE = 64 << 10
// Every piece the cipher gives is a new buffer, garbage at once. V8 collects it only once the garbage adds up
// to tens of MiB, so the worker asks for a young-generation collection every GC_EVERY bytes encrypted.
const GC_EVERY = 8 << 20
// (unless node runs with --expose-gc, gc is exposed just long enough to make one context that has it;
// without it, V8 collects on its own)
let collect = globalThis.gc
if (!collect) {
  try {
    require('node:v8').setFlagsFromString('--expose-gc')
    collect = require('node:vm').runInNewContext('gc')
  } catch {}
  require('node:v8').setFlagsFromString('--no-expose-gc')
}
let encrypted = 0
/** Memory shared with the pool that claimed chunks go out in, sealed: outSlots slots of OUT bytes (files only). */
const OUT = workerData.outSize
const outMem = workerData.outMem
// random IVs, fetched from the CSPRNG 4 KiB at a time
let ivPool = Buffer.alloc(0)
let ivPos = 0
function randomIv(iv) {
  do {
    if (ivPos + 16 > ivPool.length) {
      ivPool = randomFillSync(Buffer.allocUnsafeSlow(4096))
      ivPos = 0
    }
    iv.set(ivPool.subarray(ivPos, ivPos + 16))
    ivPos += 16
  } while (iv.every((b) => b === 0))
}
/** Encrypts plain into out at offset at: IV || AES-256-CTR ciphertext || Poly1305-AES MAC (length + 32 bytes). plain may be out's bytes at at + 16 (encrypted in place). */
function encryptInto(plain, out, at) {
  const n = plain.length
  const iv = out.subarray(at, at + 16)
  randomIv(iv)
  const cipher = createCipheriv('aes-256-ctr', encKey, iv)
  const state = Buffer.alloc(sodium.crypto_onetimeauth_STATEBYTES)
  sodium.crypto_onetimeauth_init(state, polyKey(iv))
  for (let off = 0; off < n; off += PIECE) {
    const piece = cipher.update(plain.subarray(off, Math.min(n, off + PIECE)))
    out.set(piece, at + 16 + off)
    sodium.crypto_onetimeauth_update(state, piece)
  }
  sodium.crypto_onetimeauth_final(state, out.subarray(at + 16 + n, at + 32 + n))
  encrypted += n
  if (encrypted >= GC_EVERY && collect) {
    encrypted = 0
    collect({ type: 'minor' })
  }
  return n + 32
}
/** The room one blob takes sealed, at most. */
function sealedBound(b) {
  return (cctx && b.length > 0 ? binding.compressBound(b.length) : b.length) + 32
}
/**
 * Seals data into out at offset at (with room for sealedBound(data)): zstd-compressed there (v2), then
 * encrypted in place. Returns the sealed length and the uncompressed length (-1 if not compressed).
 */
function sealInto(data, out, at) {
  if (!cctx || data.length === 0) return { n: encryptInto(data, out, at), ul: -1 }
  const room = Buffer.from(out.buffer, out.byteOffset + at + 16, binding.compressBound(data.length))
  const z = cctx.compress(room, data, workerData.level)
  return { n: encryptInto(room.subarray(0, z), out, at), ul: data.length }
}
function seal(data) {
  const buf = Buffer.allocUnsafeSlow(sealedBound(data))
  const { n, ul } = sealInto(data, buf, 0)
  return { sealed: buf.subarray(0, n), ul: ul < 0 ? undefined : ul }
}
/** Seals blobs into buf one after the other: { out, lengths, uls }. */
function sealAll(blobs, buf) {
  const lengths = []
  const uls = []
  let pos = 0
  for (const data of blobs) {
    const { n, ul } = sealInto(data, buf, pos)
    lengths.push(n)
    uls.push(ul)
    pos += n
  }
  return { out: buf.subarray(0, pos), lengths, uls }
}
// Claimed chunks go out sealed in the slots of outMem. The pool gives a slot back once the packer has written
// its blobs; with none free, sealing waits, so a slow packer holds the worker back.
const freeOut = Array.from({ length: workerData.outSlots }, (_, i) => i)
/** Batches of claimed chunks waiting for a slot: { chunks, ids, sizes, slots, more }. */
const sealQueue = []
function pump() {
  while (sealQueue.length > 0 && freeOut.length > 0) {
    const k = freeOut.pop()
    const job = sealQueue.shift()
    const { out: sealed, lengths, uls } = sealAll(job.chunks, new Uint8Array(outMem, k * OUT, OUT))
    parentPort.postMessage({ stored: k, length: sealed.length, ids: job.ids, lengths, uls, sizes: job.sizes, more: job.more })
    job.slots.forEach(unref)
  }
}

// --- the chunker (restic's cuts; see Chunker.workerSetup) ---------------------------------------------
const ck = workerData.chunker
let scan
let mem32
if (ck) {
  const instance = new WebAssembly.Instance(ck.module, {})
  const mem8 = new Uint8Array(instance.exports.memory.buffer)
  mem32 = new Int32Array(instance.exports.memory.buffer)
  mem8.set(ck.image, ck.tablesAt)
  const scanBlocks = (${wasmScanBlocks.toString()})
  const fn = instance.exports.scan
  scan = (buf, i, lim, hi, lo) => scanBlocks(ck.layout, fn, mem8, mem32, buf, i, lim, hi, lo, ck.maskHi, ck.maskLo, ck.polShift)
}
/**
 * The end of the chunk that starts at s in buf, whose bytes are valid up to end (eof: the file ends
 * there), or -1 when more bytes are needed. st carries the scan between calls ({ pos: -1 } for a new
 * chunk). restic hashes a chunk from minSize - 64 on and first checks the digest at minSize; the digest
 * then depends only on the 64 bytes in the window, so the first 64 are hashed from an all-zero window.
 */
function findCut(buf, s, end, eof, st) {
  const minEnd = s + ck.minSize
  const maxEnd = s + ck.maxSize
  if (st.pos < 0) {
    if (end < minEnd) return eof ? end : -1
    const hs = ck.polShift - 32
    let hi = 0
    let lo = 0
    for (let i = minEnd - 64; i < minEnd; i++) {
      const idx = hi >>> hs
      const nhi = ((hi << 8) | (lo >>> 24)) ^ ck.modHi[idx]
      lo = ((lo << 8) | buf[i]) ^ ck.modLo[idx]
      hi = nhi
    }
    if (((lo & ck.maskLo) | (hi & ck.maskHi)) === 0 || minEnd >= maxEnd) return minEnd
    st.pos = minEnd
    st.hi = hi
    st.lo = lo
  }
  const lim = Math.min(end, maxEnd)
  if (st.pos < lim) {
    const stop = scan(buf, st.pos, lim, st.hi, st.lo)
    st.lo = mem32[ck.layout.digest >> 2]
    st.hi = mem32[(ck.layout.digest >> 2) + 1]
    if (stop < lim) return stop + 1
    st.pos = lim
  }
  if (lim === maxEnd) return maxEnd
  return eof ? end : -1
}

// --- files ----------------------------------------------------------------------------------------------
// File bytes are read into reused buffers ("slots", counted references), never into one buffer per file:
// buffers dropped to the garbage collector pile up for a long time in a worker that allocates few objects.
// - Small files share slabs, filled one after the other; a slab is reused once no chunk in it waits for an answer.
// - Large files take turns with the worker's one large buffer, which has room for an unfinished chunk
//   (< maxSize) plus a block; before reading the next block into it, the file waits for the answers about the
//   chunks cut from it.
const BLOCK = 2 << 20
const SLAB = 4 << 20
/** Files up to this size (plus one byte, to see the end) are read into a slab. */
const SMALL = 1 << 20
const READ_BUF = (ck ? ck.maxSize : 0) + BLOCK
const spare = { [SLAB]: [], [READ_BUF]: [] }
function slot(size) {
  return { buf: spare[size].pop() ?? Buffer.allocUnsafeSlow(size), used: 0, refs: 1, idle: undefined }
}
let largeMade = false
const largeWaiters = []
/** The large buffer, once no other file holds it. */
async function largeSlot() {
  while (largeMade && spare[READ_BUF].length === 0) await new Promise((f) => largeWaiters.push(f))
  largeMade = true
  return slot(READ_BUF)
}
function unref(t) {
  if (--t.refs === 0) {
    spare[t.buf.length]?.push(t.buf)
    if (t.buf.length === READ_BUF) largeWaiters.shift()?.()
  } else if (t.refs === 1 && t.idle) {
    const f = t.idle
    t.idle = undefined
    f()
  }
}
let slab
/** A slot with n free bytes for a small file, and where they start. */
function slabSpace(n) {
  if (!slab || slab.used + n > SLAB) {
    if (slab) unref(slab)
    slab = slot(SLAB)
  }
  const at = slab.used
  slab.used += n
  slab.refs++
  return { t: slab, at }
}

let out = { ids: [], lengths: [], chunks: [], slots: [], files: [] }
let outScheduled = false
let querySeq = 0
const waiting = new Map()

function emit(chunk, t) {
  const id = createHash('sha256').update(chunk).digest('hex')
  out.ids.push(id)
  out.lengths.push(chunk.length)
  out.chunks.push(chunk)
  out.slots.push(t)
  t.refs++
  schedule()
  return id
}
function schedule() {
  if (!outScheduled) {
    outScheduled = true
    setImmediate(flushOut)
  }
}
function flushOut() {
  outScheduled = false
  const o = out
  out = { ids: [], lengths: [], chunks: [], slots: [], files: [] }
  const query = o.ids.length > 0 ? querySeq++ : -1
  if (query >= 0) waiting.set(query, o)
  parentPort.postMessage({ query, ids: o.ids, lengths: o.lengths, files: o.files })
}
function answer(m) {
  const { chunks, ids, slots } = waiting.get(m.answer)
  waiting.delete(m.answer)
  // claimed chunks in batches that fit in OUT bytes (\`more\` on all but the last); the rest are let go now
  let job
  const jobs = []
  chunks.forEach((c, i) => {
    if (m.claims.charCodeAt(i) !== 49) return unref(slots[i])
    const n = sealedBound(c)
    if (!job || job.cap + n > OUT) jobs.push((job = { chunks: [], ids: [], sizes: [], slots: [], more: true, cap: 0 }))
    job.chunks.push(c)
    job.ids.push(ids[i])
    job.sizes.push(c.length)
    job.slots.push(slots[i])
    job.cap += n
  })
  if (job) job.more = false
  sealQueue.push(...jobs)
  pump()
}
async function storeFile(id, path, expected) {
  const content = []
  let size = 0
  let fd
  let t
  try {
    if (expected >= SMALL) t = await largeSlot()
    // O_NOFOLLOW: never read through a symlink put in place since the walk; O_NONBLOCK: never hang on a fifo.
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
    if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error('changed type since it was listed, refusing to read it'), { code: 'ChangedType' })
    let buf
    if (t) buf = t.buf
    else {
      const space = slabSpace(expected + 1)
      t = space.t
      buf = t.buf.subarray(space.at, space.at + expected + 1)
    }
    let s = 0
    let end = 0
    let eof = false
    const st = { pos: -1, hi: 0, lo: 0 }
    for (;;) {
      const cut = eof && s === end ? -2 : findCut(buf, s, end, eof, st)
      if (cut === -2) break
      if (cut >= 0) {
        content.push(emit(buf.subarray(s, cut), t))
        size += cut - s
        s = cut
        st.pos = -1
        continue
      }
      if (end === buf.length) {
        // full: move the unfinished chunk to the front of a large file's buffer, once no chunk before it waits
        let next = t
        if (t.buf.length !== READ_BUF) next = await largeSlot()
        else if (t.refs > 1) await new Promise((f) => (t.idle = f))
        buf.copy(next.buf, 0, s, end)
        if (next !== t) {
          unref(t)
          t = next
        }
        buf = t.buf
        if (st.pos >= 0) st.pos -= s
        end -= s
        s = 0
      }
      const n = fs.readSync(fd, buf, end, Math.min(BLOCK, buf.length - end), null)
      if (n === 0) eof = true
      end += n
    }
    out.files.push({ id, content, size })
  } catch (e) {
    out.files.push({ id, fileError: String((e && e.message) || e), code: e && e.code })
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
    if (t) unref(t)
  }
  schedule()
}

parentPort.on('message', (m) => {
  // a failure to seal answered blobs is not one job's: it ends the worker (the pool fails every job)
  if (m.answer !== undefined) return answer(m)
  if (m.recycle !== undefined) {
    freeOut.push(m.recycle)
    return pump()
  }
  try {
    if (m.files) {
      const f = m.files
      const paths = Buffer.from(f.paths.buffer, f.paths.byteOffset, f.paths.length)
      f.ids.forEach((id, i) => void storeFile(id, paths.subarray(i === 0 ? 0 : f.ends[i - 1], f.ends[i]), f.expected[i]))
      return
    }
    if (m.lengths) {
      // A batch of small blobs in one buffer: answer with one buffer of sealed blobs.
      const blobs = []
      let off = 0
      for (const n of m.lengths) {
        blobs.push(m.data.subarray(off, off + n))
        off += n
      }
      const { out: sealed, lengths, uls } = sealAll(blobs, new Uint8Array(blobs.reduce((n, b) => n + sealedBound(b), 0)))
      parentPort.postMessage({ id: m.id, sealed, lengths, uls }, [sealed.buffer])
      return
    }
    const { sealed, ul } = seal(m.data)
    const sealedView = new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.length)
    parentPort.postMessage({ id: m.id, sealed: sealedView, ul }, [sealedView.buffer])
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) })
  }
})
`
