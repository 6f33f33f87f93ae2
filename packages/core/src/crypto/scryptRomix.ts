// Dependency-free (no imports): loaded by the scrypt worker program and by the CLI before its program.

/** True on a little-endian machine, where a `Int32Array` over bytes reads scrypt's little-endian words as they are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** `out[o..o+16) = Salsa20/8(a[ai..ai+16) ^ b[bi..bi+16))` on 32-bit words; `out` may be one of the inputs. */
function salsaXor(a: Int32Array, ai: number, b: Int32Array, bi: number, out: Int32Array, o: number): void {
  const j0 = a[ai]! ^ b[bi]!, j1 = a[ai + 1]! ^ b[bi + 1]!, j2 = a[ai + 2]! ^ b[bi + 2]!, j3 = a[ai + 3]! ^ b[bi + 3]!
  const j4 = a[ai + 4]! ^ b[bi + 4]!, j5 = a[ai + 5]! ^ b[bi + 5]!, j6 = a[ai + 6]! ^ b[bi + 6]!, j7 = a[ai + 7]! ^ b[bi + 7]!
  const j8 = a[ai + 8]! ^ b[bi + 8]!, j9 = a[ai + 9]! ^ b[bi + 9]!, j10 = a[ai + 10]! ^ b[bi + 10]!, j11 = a[ai + 11]! ^ b[bi + 11]!
  const j12 = a[ai + 12]! ^ b[bi + 12]!, j13 = a[ai + 13]! ^ b[bi + 13]!, j14 = a[ai + 14]! ^ b[bi + 14]!, j15 = a[ai + 15]! ^ b[bi + 15]!
  let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7
  let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15
  let t = 0
  for (let i = 0; i < 4; i++) {
    // columns
    t = (x0 + x12) | 0; x4 ^= (t << 7) | (t >>> 25)
    t = (x4 + x0) | 0; x8 ^= (t << 9) | (t >>> 23)
    t = (x8 + x4) | 0; x12 ^= (t << 13) | (t >>> 19)
    t = (x12 + x8) | 0; x0 ^= (t << 18) | (t >>> 14)
    t = (x5 + x1) | 0; x9 ^= (t << 7) | (t >>> 25)
    t = (x9 + x5) | 0; x13 ^= (t << 9) | (t >>> 23)
    t = (x13 + x9) | 0; x1 ^= (t << 13) | (t >>> 19)
    t = (x1 + x13) | 0; x5 ^= (t << 18) | (t >>> 14)
    t = (x10 + x6) | 0; x14 ^= (t << 7) | (t >>> 25)
    t = (x14 + x10) | 0; x2 ^= (t << 9) | (t >>> 23)
    t = (x2 + x14) | 0; x6 ^= (t << 13) | (t >>> 19)
    t = (x6 + x2) | 0; x10 ^= (t << 18) | (t >>> 14)
    t = (x15 + x11) | 0; x3 ^= (t << 7) | (t >>> 25)
    t = (x3 + x15) | 0; x7 ^= (t << 9) | (t >>> 23)
    t = (x7 + x3) | 0; x11 ^= (t << 13) | (t >>> 19)
    t = (x11 + x7) | 0; x15 ^= (t << 18) | (t >>> 14)
    // rows
    t = (x0 + x3) | 0; x1 ^= (t << 7) | (t >>> 25)
    t = (x1 + x0) | 0; x2 ^= (t << 9) | (t >>> 23)
    t = (x2 + x1) | 0; x3 ^= (t << 13) | (t >>> 19)
    t = (x3 + x2) | 0; x0 ^= (t << 18) | (t >>> 14)
    t = (x5 + x4) | 0; x6 ^= (t << 7) | (t >>> 25)
    t = (x6 + x5) | 0; x7 ^= (t << 9) | (t >>> 23)
    t = (x7 + x6) | 0; x4 ^= (t << 13) | (t >>> 19)
    t = (x4 + x7) | 0; x5 ^= (t << 18) | (t >>> 14)
    t = (x10 + x9) | 0; x11 ^= (t << 7) | (t >>> 25)
    t = (x11 + x10) | 0; x8 ^= (t << 9) | (t >>> 23)
    t = (x8 + x11) | 0; x9 ^= (t << 13) | (t >>> 19)
    t = (x9 + x8) | 0; x10 ^= (t << 18) | (t >>> 14)
    t = (x15 + x14) | 0; x12 ^= (t << 7) | (t >>> 25)
    t = (x12 + x15) | 0; x13 ^= (t << 9) | (t >>> 23)
    t = (x13 + x12) | 0; x14 ^= (t << 13) | (t >>> 19)
    t = (x14 + x13) | 0; x15 ^= (t << 18) | (t >>> 14)
  }
  out[o] = (x0 + j0) | 0; out[o + 1] = (x1 + j1) | 0; out[o + 2] = (x2 + j2) | 0; out[o + 3] = (x3 + j3) | 0
  out[o + 4] = (x4 + j4) | 0; out[o + 5] = (x5 + j5) | 0; out[o + 6] = (x6 + j6) | 0; out[o + 7] = (x7 + j7) | 0
  out[o + 8] = (x8 + j8) | 0; out[o + 9] = (x9 + j9) | 0; out[o + 10] = (x10 + j10) | 0; out[o + 11] = (x11 + j11) | 0
  out[o + 12] = (x12 + j12) | 0; out[o + 13] = (x13 + j13) | 0; out[o + 14] = (x14 + j14) | 0; out[o + 15] = (x15 + j15) | 0
}

/**
 * scrypt's BlockMix(Salsa20/8) of the `32·r` words `b[bi..)` into `out[o..)`, which must not overlap them:
 * Y_i = Salsa(Y_{i-1} ^ B_i) with Y_{-1} = B_{2r-1}, the even Y_i first, then the odd ones.
 */
function blockMix(b: Int32Array, bi: number, out: Int32Array, o: number, r: number): void {
  salsaXor(b, bi + 32 * r - 16, b, bi, out, o)
  let prev = o
  for (let i = 1; i < 2 * r; i++) {
    const to = o + ((i & 1) === 0 ? i >> 1 : r + (i >> 1)) * 16
    salsaXor(out, prev, b, bi + i * 16, out, to)
    prev = to
  }
}

/** Swaps the bytes of every 32-bit word (scrypt's words are little-endian; on a big-endian machine they are swapped in and out). */
function swapWords(words: Int32Array): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!
    words[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24)
  }
}

/** The words of memory ROMix(N, r) works in (`32·N·r`, i.e. `128·N·r` bytes), for a reused {@link scryptRomix} scratch. */
export function romixScratchWords(N: number, r: number): number {
  return 32 * N * r
}

/**
 * scrypt's ROMix (RFC 7914) of one lane, in place: the `128·r` bytes of `block` replaced by ROMix(N, r) of
 * them. Works in `scratch` (at least {@link romixScratchWords} words, overwritten), by default memory of its own
 * for the call. `N` must be a power of two > 1 and `r` ≥ 1.
 */
export function scryptRomix(block: Uint8Array, N: number, r: number, scratch?: Int32Array): void {
  const words = 32 * r
  if (block.length !== 4 * words) throw new RangeError(`a scrypt lane has ${4 * words} bytes, not ${block.length}`)
  if (scratch !== undefined && scratch.length < romixScratchWords(N, r)) throw new RangeError('scrypt scratch memory too small')
  let x = new Int32Array(words)
  new Uint8Array(x.buffer).set(block)
  if (!LITTLE_ENDIAN) swapWords(x)
  const v = scratch ?? new Int32Array(romixScratchWords(N, r))
  v.set(x)
  // V_0 = X, V_{i+1} = BlockMix(V_i); X = BlockMix(V_{N-1})
  for (let i = 0; i < N - 1; i++) blockMix(v, i * words, v, (i + 1) * words, r)
  blockMix(v, (N - 1) * words, x, 0, r)
  // X = BlockMix(X ^ V_j), j = Integerify(X) mod N; y is the other buffer, swapped each round
  let y = new Int32Array(words)
  const mask = N - 1
  const tail = words - 16
  for (let i = 0; i < N; i++) {
    const j = (x[tail]! & mask) * words
    for (let k = 0; k < words; k++) x[k] = x[k]! ^ v[j + k]!
    blockMix(x, 0, y, 0, r)
    const z = x
    x = y
    y = z
  }
  if (!LITTLE_ENDIAN) swapWords(x)
  block.set(new Uint8Array(x.buffer))
}
