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
 * - `{ recycle }`: the buffer of a `stored` message, given back once the pool is done with it.
 *
 * Messages out:
 * - `{ id, sealed, ul }` / `{ id, sealed, lengths, uls }`: sealed blob(s); `{ id, error }`.
 * - `{ query, ids, lengths, files }`: new chunks (hex ids and lengths, in order), and finished files:
 *   `{ id, content, size }` or `{ id, fileError, code }`. One message per turn of the worker's event loop.
 * - `{ stored, ids, uls, lengths, sizes }`: the claimed blobs of one answer, sealed, in one buffer
 *   (`lengths` stored sizes, `uls` uncompressed lengths or -1, `sizes` plaintext sizes).
 */
export const SEAL_WORKER_SOURCE = `'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { createCipheriv, createHash, randomFillSync } = require('node:crypto')
const fs = require('node:fs')
${WORKER_KEY_SOURCE}
const binding = workerData.level === null ? null : require(workerData.zstd)
const cctx = binding ? new binding.CCtx() : null
const PIECE = 1 << 20
let scratch = Buffer.alloc(0)
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
/** Encrypts plain into out at offset at: IV || AES-256-CTR ciphertext || Poly1305-AES MAC (length + 32 bytes). */
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
  return n + 32
}
/** The bytes to encrypt for data: zstd-compressed into the scratch buffer (v2), or data itself; and the uncompressed length if compressed. */
function body(data) {
  if (!cctx || data.length === 0) return { body: data, ul: undefined }
  const bound = binding.compressBound(data.length)
  if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(Math.max(bound, 65536))
  return { body: scratch.subarray(0, cctx.compress(scratch, data, workerData.level)), ul: data.length }
}
function seal(data) {
  const { body: b, ul } = body(data)
  const sealed = Buffer.allocUnsafeSlow(b.length + 32)
  encryptInto(b, sealed, 0)
  return { sealed, ul }
}
/** Buffers of stored batches the pool has given back, to be filled again. */
const spareOut = []
/** Seals blobs into one buffer, each compressed and encrypted straight into it: { out, lengths, uls }. */
function sealAll(blobs) {
  let cap = 0
  for (const b of blobs) cap += (cctx && b.length > 0 ? binding.compressBound(b.length) : b.length) + 32
  const spare = spareOut.findIndex((b) => b.byteLength >= cap)
  const buf = new Uint8Array(spare >= 0 ? spareOut.splice(spare, 1)[0] : new ArrayBuffer(cap))
  const lengths = []
  const uls = []
  let pos = 0
  for (const data of blobs) {
    const { body: b, ul } = body(data)
    const n = encryptInto(b, buf, pos)
    lengths.push(n)
    uls.push(ul === undefined ? -1 : ul)
    pos += n
  }
  return { out: buf.subarray(0, pos), lengths, uls }
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
// - A large file has one buffer with room for an unfinished chunk (< maxSize) plus a block; before reading
//   the next block into it, the file waits for the answers about the chunks cut from it.
const BLOCK = 2 << 20
const SLAB = 4 << 20
/** Files up to this size (plus one byte, to see the end) are read into a slab. */
const SMALL = 1 << 20
const READ_BUF = (ck ? ck.maxSize : 0) + BLOCK
const spare = { [SLAB]: [], [READ_BUF]: [] }
function slot(size) {
  return { buf: spare[size].pop() ?? Buffer.allocUnsafeSlow(size), used: 0, refs: 1, idle: undefined }
}
function unref(t) {
  if (--t.refs === 0) {
    const list = spare[t.buf.length]
    if (list && list.length === 0) list.push(t.buf)
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
  const { chunks, ids: queried, slots } = waiting.get(m.answer)
  waiting.delete(m.answer)
  const claimed = []
  const ids = []
  const sizes = []
  chunks.forEach((c, i) => {
    if (m.claims.charCodeAt(i) === 49) {
      claimed.push(c)
      ids.push(queried[i])
      sizes.push(c.length)
    }
  })
  if (claimed.length > 0) {
    const { out: sealed, lengths, uls } = sealAll(claimed)
    parentPort.postMessage({ stored: sealed, ids, lengths, uls, sizes }, [sealed.buffer])
  }
  slots.forEach(unref)
}
async function storeFile(id, path, expected) {
  const content = []
  let size = 0
  let fd
  let t
  try {
    // O_NOFOLLOW: never read through a symlink put in place since the walk; O_NONBLOCK: never hang on a fifo.
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK)
    if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error('changed type since it was listed, refusing to read it'), { code: 'ChangedType' })
    let buf
    if (expected < SMALL) {
      const space = slabSpace(expected + 1)
      t = space.t
      buf = t.buf.subarray(space.at, space.at + expected + 1)
    } else {
      t = slot(READ_BUF)
      buf = t.buf
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
        if (t.buf.length !== READ_BUF) next = slot(READ_BUF)
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
  if (m.recycle) return void (spareOut.length < 3 && spareOut.push(m.recycle))
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
      const { out: sealed, lengths, uls } = sealAll(blobs)
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
