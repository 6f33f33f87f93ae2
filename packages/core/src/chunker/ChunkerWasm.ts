import { polynomialPowTable, WINDOW_SIZE, type ChunkerTables } from './ChunkerTables.js'

/*
 * The chunker's hot loop as a tiny WebAssembly module, assembled here from its opcodes (no build step).
 *
 * Why: in V8 the JS loop over 32-bit halves runs at ~450 MiB/s at best, but often at ~260 MiB/s,
 * depending on how TurboFan happens to compile it (typed-array map checks and reloads inside the
 * loop). WebAssembly gives the loop 64-bit integers and plain memory loads, and lets it take two
 * bytes a step, which halves the loop-carried dependency chain (digest -> table index -> load ->
 * digest) that bounds a byte-at-a-time Rabin fingerprint:
 *
 *   restic, per byte b (o leaves the window):  d = ((d ^ out[o]) << 8 | b) mod P
 *   here, by linearity, per pair b1 b2 (o1 o2 leave), with h1 h2 the digest's top two bytes:
 *     d1 = (d << 8 | b1) ^ mod[h1] ^ out8[o1]                                  (checked against the mask)
 *     d2 = ((d << 16 | b1 << 8 | b2) & (x^k - 1)) ^ r8[h1] ^ r0[h2] ^ out16[o1] ^ out8[o2]
 *   where mod[h] = (h·x^k mod P) | h·x^k (restic's table), r0[h] = h·x^k mod P, r8[h] = h·x^(k+8) mod P,
 *   out8[o] = out[o]·x^8 mod P, out16[o] = out[o]·x^16 mod P, k = deg P.
 *
 * Memory layout (one instance, shared by every ChunkerState: JS is single-threaded and each call
 * loads what it needs):
 */
const DIGEST = 0 // i64 digest
const SHIFT = 8 // i64: k - 8
const MASK = 16 // i64: cut mask
const TAB_A = 1024 // 256 × [mod[h], r8[h]] (16 bytes)
const TAB_B = TAB_A + 256 * 16 // 256 × r0[h]
const TAB_C = TAB_B + 256 * 8 // 256 × [out8[o], out16[o]]
const TAB_END = TAB_C + 256 * 16
/** Data block; the 64 bytes before it hold the bytes that leave the window first. */
const DATA = 12288
/** Bytes scanned per call into the module. */
const BLOCK = 256 * 1024
const PAGES = Math.ceil((DATA + BLOCK) / 65536)

// --- a minimal assembler --------------------------------------------------------------------------
function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}
function sleb(n: number): number[] {
  const out: number[] = []
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}
const get = (l: number): number[] => [0x20, l]
const set = (l: number): number[] => [0x21, l]
const i32 = (n: number): number[] => [0x41, ...sleb(n)]
const i64 = (n: number): number[] => [0x42, ...sleb(n)]
const load64 = (offset: number): number[] => [0x29, 3, ...uleb(offset)]
const load8u32 = (offset: number): number[] => [0x2d, 0, ...uleb(offset)]
const load8u64 = (offset: number): number[] => [0x31, 0, ...uleb(offset)]
const store64 = (offset: number): number[] => [0x37, 3, ...uleb(offset)]
const OP = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  ret: 0x0f,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32And: 0x71,
  i32Shl: 0x74,
  i64Eqz: 0x50,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64And: 0x83,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64ShrU: 0x88,
  wrap: 0xa7,
} as const

// Locals of `scan(q: i32, qend: i32) -> i32`: q walks the bytes leaving the window (the byte entering
// is at q + 64); the result is q after the byte that matched the mask, or -1.
const Q = 0
const QEND = 1
const D = 2 // i64 digest
const SH = 3 // i64 shift = k - 8
const MK = 4 // i64 mask
const LOW = 5 // i64 x^k - 1
const B1 = 6 // i64 first byte of a pair
const D1 = 7 // i64 digest after the first byte of a pair
const H1 = 8 // i32 offset of the top byte's entry in TAB_A
const O1 = 9 // i32 offset of the first leaving byte's entry in TAB_C

/** Returns `q` with the digest stored, if the digest in local `d` matches the mask. */
function returnIfCut(d: number, qPlus: number): number[] {
  return [
    ...get(d), ...get(MK), OP.i64And, OP.i64Eqz, ...OP.if,
    ...i32(DIGEST), ...get(d), ...store64(0), ...get(Q), ...i32(qPlus), OP.i32Add, OP.ret,
    OP.end,
  ]
}

function scanBody(): number[] {
  // prettier-ignore
  const code = [
    ...i32(DIGEST), ...load64(0), ...set(D),
    ...i32(0), ...load64(SHIFT), ...set(SH),
    ...i32(0), ...load64(MASK), ...set(MK),
    ...i64(1), ...get(SH), ...i64(8), OP.i64Add, OP.i64Shl, ...i64(1), OP.i64Sub, ...set(LOW),
    // two bytes a step while q + 1 < qend
    ...OP.block, ...OP.loop,
    ...get(Q), ...i32(1), OP.i32Add, ...get(QEND), OP.i32GeU, OP.brIf, 1,
    ...get(Q), ...load8u64(WINDOW_SIZE), ...set(B1),
    ...get(D), ...get(SH), OP.i64ShrU, OP.wrap, ...i32(4), OP.i32Shl, ...set(H1),
    ...get(Q), ...load8u32(0), ...i32(4), OP.i32Shl, ...set(O1),
    // d1 = (d << 8 | b1) ^ mod[h1] ^ out8[o1]
    ...get(D), ...i64(8), OP.i64Shl, ...get(B1), OP.i64Or,
    ...get(H1), ...load64(TAB_A), OP.i64Xor, ...get(O1), ...load64(TAB_C), OP.i64Xor, ...set(D1),
    // d2: the data-dependent terms first, the two digest-dependent loads last (shortest chain)
    ...get(D), ...i64(16), OP.i64Shl, ...get(B1), ...i64(8), OP.i64Shl, OP.i64Or,
    ...get(Q), ...load8u64(WINDOW_SIZE + 1), OP.i64Or, ...get(LOW), OP.i64And,
    ...get(O1), ...load64(TAB_C + 8), OP.i64Xor,
    ...get(Q), ...load8u32(1), ...i32(4), OP.i32Shl, ...load64(TAB_C), OP.i64Xor,
    ...get(H1), ...load64(TAB_A + 8),
    ...get(D), ...get(SH), ...i64(8), OP.i64Sub, OP.i64ShrU, OP.wrap, ...i32(255), OP.i32And, ...i32(3), OP.i32Shl,
    ...load64(TAB_B), OP.i64Xor,
    OP.i64Xor, ...set(D),
    ...returnIfCut(D1, 1),
    ...get(Q), ...i32(2), OP.i32Add, ...set(Q),
    ...returnIfCut(D, 0),
    OP.br, 0, OP.end, OP.end,
    // the last byte, if any: one step
    ...OP.block, ...OP.loop,
    ...get(Q), ...get(QEND), OP.i32GeU, OP.brIf, 1,
    ...get(D), ...i64(8), OP.i64Shl, ...get(Q), ...load8u64(WINDOW_SIZE), OP.i64Or,
    ...get(Q), ...load8u32(0), ...i32(4), OP.i32Shl, ...load64(TAB_C), OP.i64Xor,
    ...get(D), ...get(SH), OP.i64ShrU, OP.wrap, ...i32(4), OP.i32Shl, ...load64(TAB_A), OP.i64Xor,
    ...set(D),
    ...get(Q), ...i32(1), OP.i32Add, ...set(Q),
    ...returnIfCut(D, 0),
    OP.br, 0, OP.end, OP.end,
    ...i32(DIGEST), ...get(D), ...store64(0), ...i32(-1),
    OP.end,
  ]
  // locals: 6 × i64 (D, SH, MK, LOW, B1, D1), 2 × i32 (H1, O1)
  const body = [2, 6, 0x7e, 2, 0x7f, ...code]
  return [...uleb(body.length), ...body]
}

function moduleBytes(): Uint8Array {
  const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes]
  const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))]
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f]), // type (i32, i32) -> i32
    ...section(3, [1, 0]), // one function
    ...section(5, [1, 0, ...uleb(PAGES)]), // memory
    ...section(7, [2, ...name('memory'), 2, 0, ...name('scan'), 0, 0]),
    ...section(10, [1, ...scanBody()]),
  ])
}

// --- tables and the scanner -----------------------------------------------------------------------

/** The part of the WebAssembly JS API used here (the project's type libraries do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly

const images = new WeakMap<ChunkerTables, Uint8Array>()

/** The tables of `t` as the module reads them (TAB_A … TAB_END), computed once per polynomial. */
function tableImage(t: ChunkerTables): Uint8Array {
  let img = images.get(t)
  if (img) return img
  img = new Uint8Array(TAB_END - TAB_A)
  const view = new DataView(img.buffer)
  const big = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)
  const r8 = polynomialPowTable(t.pol, t.degree + 8)
  const r0 = polynomialPowTable(t.pol, t.degree)
  const out16 = polynomialPowTable(t.pol, 8 * WINDOW_SIZE + 8)
  for (let b = 0; b < 256; b++) {
    view.setBigUint64(16 * b, big(t.modHi[b]!, t.modLo[b]!), true)
    view.setBigUint64(16 * b + 8, r8[b]!, true)
    view.setBigUint64(TAB_B - TAB_A + 8 * b, r0[b]!, true)
    view.setBigUint64(TAB_C - TAB_A + 16 * b, big(t.outHi[b]!, t.outLo[b]!), true)
    view.setBigUint64(TAB_C - TAB_A + 16 * b + 8, out16[b]!, true)
  }
  images.set(t, img)
  return img
}

let compiled: object | null | undefined

/**
 * The WebAssembly hot loop of the chunker, for polynomials of degree ≥ 16. Stateless between calls:
 * the caller passes the digest in and reads it back from {@link WasmScanner.hi} / {@link WasmScanner.lo}.
 */
export class WasmScanner {
  /** Digest after the last {@link WasmScanner.scan}, high 32 bits. */
  hi = 0
  /** Digest after the last {@link WasmScanner.scan}, low 32 bits (int32). */
  lo = 0
  private readonly fn: (q: number, qend: number) => number
  private readonly mem8: Uint8Array
  private readonly mem32: Int32Array
  private loaded: ChunkerTables | undefined

  private constructor(module: object) {
    const instance = new wasmApi!.Instance(module, {})
    const memory = instance.exports['memory'] as { buffer: ArrayBuffer }
    this.fn = instance.exports['scan'] as (q: number, qend: number) => number
    this.mem8 = new Uint8Array(memory.buffer)
    this.mem32 = new Int32Array(memory.buffer)
  }

  private static instance: WasmScanner | null | undefined

  /** The shared scanner, or `undefined` where WebAssembly is unavailable (e.g. `node --jitless`). */
  static get(): WasmScanner | undefined {
    if (WasmScanner.instance === undefined) {
      try {
        if (compiled === undefined) compiled = wasmApi ? new wasmApi.Module(moduleBytes()) : null
        WasmScanner.instance = compiled ? new WasmScanner(compiled) : null
      } catch {
        WasmScanner.instance = null
      }
    }
    return WasmScanner.instance ?? undefined
  }

  /**
   * Hashes `buf[i, lim)` (requires `i >= 64`: the byte leaving the window is `buf[j - 64]`) block by block,
   * starting from digest (`hi`, `lo`), until the digest matches the mask (`maskHi`, `maskLo`). Returns the
   * index of the matching byte, or `lim`; the digest after it is in `this.hi` / `this.lo`.
   */
  scan(t: ChunkerTables, buf: Uint8Array, i: number, lim: number, hi: number, lo: number, maskHi: number, maskLo: number): number {
    const { fn, mem8, mem32 } = this
    if (this.loaded !== t) {
      mem8.set(tableImage(t), TAB_A)
      this.loaded = t
    }
    mem32[SHIFT >> 2] = t.polShift
    mem32[(SHIFT >> 2) + 1] = 0
    mem32[MASK >> 2] = maskLo
    mem32[(MASK >> 2) + 1] = maskHi
    mem32[DIGEST >> 2] = lo
    mem32[(DIGEST >> 2) + 1] = hi
    const base = DATA - WINDOW_SIZE
    let stop = lim
    while (i < lim) {
      const n = Math.min(BLOCK, lim - i)
      mem8.set(buf.subarray(i - WINDOW_SIZE, i + n), base)
      const r = fn(base, base + n)
      if (r >= 0) {
        stop = i + (r - base) - 1
        break
      }
      i += n
    }
    this.lo = mem32[DIGEST >> 2]!
    this.hi = mem32[(DIGEST >> 2) + 1]!
    return stop
  }
}
