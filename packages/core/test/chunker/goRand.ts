import { GO_RNG_COOKED } from './goRngCooked.js'

const LEN = 607
const TAP = 273
const M = 2147483647 // 2^31 - 1
const U64 = (1n << 64n) - 1n

/** Go's `seedrand`: x[n+1] = 48271 · x[n] mod (2^31 − 1). */
function seedrand(x: number): number {
  const hi = Math.floor(x / 44488)
  const lo = x % 44488
  let r = 48271 * lo - 3399 * hi
  if (r < 0) r += M
  return r
}

/**
 * The bytes restic's chunker tests chunk: `count` bytes from Go's `rand.New(rand.NewSource(seed))`,
 * 4 bytes (little endian) from each `Uint32()` (= `Int63() >> 31`). A port of Go's lagged-Fibonacci
 * `rngSource` (taps 607/273), with the state in 32-bit halves for speed.
 */
export function goRandomBytes(seed: number, count: number): Uint8Array {
  let s = seed % M
  if (s < 0) s += M
  if (s === 0) s = 89482311
  const vhi = new Uint32Array(LEN)
  const vlo = new Uint32Array(LEN)
  let x = s
  for (let i = -20; i < LEN; i++) {
    x = seedrand(x)
    if (i >= 0) {
      let u = BigInt(x) << 40n
      x = seedrand(x)
      u ^= BigInt(x) << 20n
      x = seedrand(x)
      u ^= BigInt(x)
      u = (u ^ BigInt.asUintN(64, GO_RNG_COOKED[i]!)) & U64
      vhi[i] = Number(u >> 32n)
      vlo[i] = Number(u & 0xffffffffn)
    }
  }
  let tap = 0
  let feed = LEN - TAP
  const out = new Uint8Array(count)
  const view = new DataView(out.buffer)
  for (let i = 0; i + 4 <= count; i += 4) {
    if (--tap < 0) tap += LEN
    if (--feed < 0) feed += LEN
    const lo = vlo[feed]! + vlo[tap]!
    const carry = lo > 0xffffffff ? 1 : 0
    const hi = (vhi[feed]! + vhi[tap]! + carry) >>> 0
    vlo[feed] = lo >>> 0
    vhi[feed] = hi
    // Uint32 = bits 31..62 of the 64-bit sum
    view.setUint32(i, (((hi & 0x7fffffff) << 1) | (lo >>> 31 & 1)) >>> 0, true)
  }
  return out
}
