import { RusticError } from '../error/RusticError.js'
import type { ResolvedChunkerOptions } from './ChunkerOptions.js'
import { chunkerTables, WINDOW_SIZE, type ChunkerTables } from './ChunkerTables.js'
import { WasmScanner } from './ChunkerWasm.js'
import type { Polynomial } from './Polynomial.js'

/** The fingerprint mask of `averageBits` low bits, as two int32 halves (a cut is where `digest & mask` is 0). */
export function cutMask(averageBits: number): { maskHi: number; maskLo: number } {
  const bits = Math.min(averageBits, 53)
  return { maskLo: bits >= 32 ? -1 : (2 ** bits - 1) | 0, maskHi: bits > 32 ? 2 ** (bits - 32) - 1 : 0 }
}

/**
 * The synchronous, allocation-free core of the chunker (see `ChunkerState`, which validates its
 * options; this class takes them validated, so that it loads without the options' schema, e.g. in the
 * seal workers): a Rabin fingerprint over a 64-byte sliding
 * window with restic's exact cut rules (github.com/restic/chunker). Feed it the bytes of one stream
 * in order, in as many pieces as you like, with {@link CutSearch.findCut}; it returns where each
 * chunk ends and never copies data, so callers decide what to keep.
 *
 * Per chunk: the fingerprint is reset (window zeroed, digest 0, then the byte 0x01 is slid in);
 * the first `minSize - 64` bytes are skipped unhashed; the chunk ends after the first byte that makes
 * its length ≥ `minSize` and either sets the fingerprint's low `averageBits` bits to 0 or makes the
 * length `maxSize`. At the end of the stream the rest is one last chunk ({@link CutSearch.finish}).
 *
 * The 53-bit fingerprint is kept as two 32-bit integers (`hi`, `lo`); tables come from
 * {@link chunkerTables}. The long runs of bytes are hashed by a built-in WebAssembly loop, or by
 * plain JavaScript (see {@link ChunkerOptions.engine}).
 */
export class CutSearch {
  private readonly tables: ChunkerTables
  private readonly minSize: number
  private readonly maxSize: number
  private readonly maskLo: number
  private readonly maskHi: number
  private readonly wasm: WasmScanner | undefined
  /** Digest, high 32 bits. */
  private hi = 0
  /** Digest, low 32 bits (as an int32). */
  private lo = 1
  /** The last 64 hashed bytes, oldest first (valid once hashing of the current chunk has begun). */
  private readonly win = new Uint8Array(WINDOW_SIZE)
  private count = 0
  private cutHi = 0
  private cutLo = 0

  /** A state for a new stream, chunked with polynomial `pol` (degree 8 … 53) and validated `options`. */
  constructor(pol: Polynomial, o: ResolvedChunkerOptions) {
    this.tables = chunkerTables(pol)
    this.minSize = o.minSize
    this.maxSize = o.maxSize
    ;({ maskHi: this.maskHi, maskLo: this.maskLo } = cutMask(o.averageBits))
    this.wasm = o.engine !== 'js' && this.tables.degree >= 16 ? WasmScanner.get() : undefined
    if (o.engine === 'wasm' && !this.wasm) {
      const why = this.tables.degree < 16 ? `the polynomial has degree ${this.tables.degree} (< 16)` : 'WebAssembly is not available'
      throw new RusticError('Unsupported', `chunker engine 'wasm' cannot be used: ${why}`)
    }
    this.reset()
    if (!warmedUp) warmUp(pol)
  }

  /** Bytes of the current, unfinished chunk seen so far. */
  get pending(): number {
    return this.count
  }

  /**
   * The fingerprint at the end of the last chunk returned by {@link CutSearch.findCut} or
   * {@link CutSearch.finish} (restic's `Chunk.Cut`; 1 for a last chunk shorter than `minSize - 63`).
   */
  get cutFingerprint(): bigint {
    return (BigInt(this.cutHi >>> 0) << 32n) | BigInt(this.cutLo >>> 0)
  }

  /** Starts a new chunk (and forgets the current one). Used between streams; `findCut` resets by itself at a cut. */
  reset(): void {
    this.win.fill(0)
    this.win[WINDOW_SIZE - 1] = 1 // slide(0x01): digest = 1, window = 63 zeros then 0x01
    this.hi = 0
    this.lo = 1
    this.count = 0
  }

  /**
   * Scans `buf[start, end)` as the next bytes of the stream. Returns the index in `buf` just after the
   * last byte of the current chunk if it ends within that range (the state is then reset for the next
   * chunk, which starts there: call again with `start` = the returned index), or -1 if it does not
   * (all the bytes belong to the current chunk, which continues with the next call).
   */
  findCut(buf: Uint8Array, start = 0, end: number = buf.length): number {
    if (!(start >= 0 && start <= end && end <= buf.length)) {
      throw new RusticError('InvalidInput', `chunker: range [${start}, ${end}) is not within a buffer of ${buf.length} bytes`)
    }
    let i = start
    let count = this.count
    const pre = this.minSize - WINDOW_SIZE
    if (count < pre) {
      const n = Math.min(pre - count, end - i)
      count += n
      i += n
      if (count < pre) {
        this.count = count
        return -1
      }
    }
    if (i >= end) {
      this.count = count
      return -1
    }

    const s = i
    // 1. The first 64 bytes hashed here slide out the bytes held in the window (all bytes, for small
    // polynomials in JS); every check is made.
    const wend = this.tables.polShift < 32 && !this.wasm ? end : Math.min(end, s + WINDOW_SIZE)
    const cut = this.hashChecked(buf, s, wend, count)
    if (cut >= 0) return cut
    count += wend - s
    i = wend
    // 2. Then the byte leaving the window is buf[i - 64], and count >= minSize (hashing starts at
    // minSize - 64 and 64 bytes have been hashed), so only the mask and maxSize remain to check.
    if (i < end) {
      const lim = Math.min(end, i + (this.maxSize - count))
      const stop = this.wasm ? this.scanWasm(this.wasm, buf, i, lim) : this.scan(buf, i, lim)
      if (stop < lim) return this.cut(stop + 1) // the mask matched at byte `stop`
      count += lim - i
      if (count >= this.maxSize) return this.cut(lim)
    }
    return this.save(buf, s, end, count)
  }

  /**
   * Hashes `buf[s, to)` byte by byte with every check (minSize, mask, maxSize): the first 64 bytes
   * hashed in a call (they slide out the saved window), or all of them for polynomials of degree < 40
   * in JS. Returns the cut position, or -1 with the digest stored.
   */
  private hashChecked(buf: Uint8Array, s: number, to: number, count: number): number {
    const { modHi, modLo, outHi, outLo, polShift } = this.tables
    const { minSize, maxSize, maskLo, maskHi } = this
    const win = this.win
    const hs = polShift - 32
    const shl = 32 - polShift
    let hi = this.hi
    let lo = this.lo
    for (let i = s; i < to; i++) {
      const k = i - s
      const o = k < WINDOW_SIZE ? win[k]! : buf[i - WINDOW_SIZE]!
      const idx = polShift >= 32 ? hi >>> hs : ((hi << shl) | (lo >>> polShift)) & 0xff
      const nhi = (((hi << 8) | (lo >>> 24)) ^ outHi[o]!) ^ modHi[idx]!
      lo = (((lo << 8) | buf[i]!) ^ outLo[o]!) ^ modLo[idx]!
      hi = nhi
      count++
      if (count >= minSize && (((lo & maskLo) | (hi & maskHi)) === 0 || count >= maxSize)) {
        this.hi = hi
        this.lo = lo
        return this.cut(i + 1)
      }
    }
    this.hi = hi
    this.lo = lo
    return -1
  }

  /** The hot loop (`scan`) run by the WebAssembly module. */
  private scanWasm(wasm: WasmScanner, buf: Uint8Array, i: number, lim: number): number {
    const stop = wasm.scan(this.tables, buf, i, lim, this.hi, this.lo, this.maskHi, this.maskLo)
    this.hi = wasm.hi
    this.lo = wasm.lo
    return stop
  }

  /**
   * The hot loop in JS (degree ≥ 40, at least 64 bytes hashed): hashes `buf[i, lim)`, the byte leaving the
   * window being `buf[i - 64]`, until the fingerprint matches the mask. Returns the index of the
   * matching byte, or `lim`; the digest is stored. Kept small and separate so that V8 optimizes it
   * on its own. It is bound by the chain hi -> idx -> modHi[idx] -> hi, so the mod table is xored in
   * last (measured ~15% faster than xoring it first).
   */
  private scan(buf: Uint8Array, i: number, lim: number): number {
    const { modHi, modLo, outHi, outLo, polShift } = this.tables
    const hs = polShift - 32
    const maskLo = this.maskLo
    const maskHi = this.maskHi
    let hi = this.hi
    let lo = this.lo
    if (maskHi === 0) {
      for (; i < lim; i++) {
        const idx = hi >>> hs
        const o = buf[i - WINDOW_SIZE]!
        const nhi = (((hi << 8) | (lo >>> 24)) ^ outHi[o]!) ^ modHi[idx]!
        lo = (((lo << 8) | buf[i]!) ^ outLo[o]!) ^ modLo[idx]!
        hi = nhi
        if ((lo & maskLo) === 0) break
      }
    } else {
      for (; i < lim; i++) {
        const idx = hi >>> hs
        const o = buf[i - WINDOW_SIZE]!
        const nhi = (((hi << 8) | (lo >>> 24)) ^ outHi[o]!) ^ modHi[idx]!
        lo = (((lo << 8) | buf[i]!) ^ outLo[o]!) ^ modLo[idx]!
        hi = nhi
        if (((lo & maskLo) | (hi & maskHi)) === 0) break
      }
    }
    this.hi = hi
    this.lo = lo
    return i
  }

  /**
   * Ends the stream: returns the length of the last chunk (the bytes since the last cut, 0 if none)
   * and resets the state. {@link CutSearch.cutFingerprint} then holds the fingerprint at the end.
   */
  finish(): number {
    const n = this.count
    this.cutHi = this.hi
    this.cutLo = this.lo
    this.reset()
    return n
  }

  /** Records the fingerprint (the stored digest) of a cut at `pos` and resets for the next chunk. */
  private cut(pos: number): number {
    this.cutHi = this.hi
    this.cutLo = this.lo
    this.reset()
    return pos
  }

  /** Keeps the state after `buf[s, end)` was hashed without a cut. */
  private save(buf: Uint8Array, s: number, end: number, count: number): number {
    const n = end - s
    const win = this.win
    if (n >= WINDOW_SIZE) {
      win.set(buf.subarray(end - WINDOW_SIZE, end))
    } else {
      win.copyWithin(0, n)
      win.set(buf.subarray(s, end), WINDOW_SIZE - n)
    }
    this.count = count
    return -1
  }
}

let warmedUp = false

/**
 * Runs every path of the chunker once on a few KiB, so that V8 has type feedback for all of it before
 * the first long scan: without it the first optimized (on-stack-replaced) loops deoptimize when they
 * exit, and the first chunks run partly unoptimized.
 */
function warmUp(pol: Polynomial): void {
  warmedUp = true
  const buf = new Uint8Array(4096)
  for (let i = 0, x = 1; i < buf.length; i++) buf[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24
  for (const [averageBits, engine] of [[3, 'auto'], [12, 'auto'], [12, 'js'], [33, 'js']] as const) {
    const st = new CutSearch(pol, { minSize: 64, maxSize: 1024, averageBits, engine })
    for (let round = 0; round < 4; round++) {
      for (let pos = 0; (pos = st.findCut(buf, pos, buf.length)) >= 0; );
      st.findCut(buf, 0, 100)
      st.finish()
    }
  }
}
