import { RusticError } from '../error/RusticError.js'
import { formatPolynomial, polynomialDegree, type Polynomial } from './Polynomial.js'

/** Size of the chunker's sliding window in bytes. */
export const WINDOW_SIZE = 64

/**
 * The precomputed lookup tables of the Rabin fingerprint for one polynomial, split into 32-bit halves
 * so that the hot loop needs no BigInt. Read-only once made; shared through {@link chunkerTables}.
 */
export interface ChunkerTables {
  /** The polynomial. */
  readonly pol: Polynomial
  /** Its degree (8 … 53). */
  readonly degree: number
  /** `degree - 8`: the fingerprint's top byte is `digest >> polShift`. */
  readonly polShift: number
  /** High 32 bits of `mod[b] = ((b << degree) mod P) | (b << degree)`, which reduces a digest shifted by 8 bits. */
  readonly modHi: Int32Array
  /** Low 32 bits of `mod[b]`. */
  readonly modLo: Int32Array
  /**
   * High 32 bits of `outShifted[b] = (out[b] · x^8) mod P`, where `out[b] = b · x^(8·63) mod P` removes byte `b`
   * as it leaves the 64-byte window. restic xors `out[b]` in before the shift; by linearity xoring
   * `out[b] · x^8 mod P` in after the reduction gives the same digest, and shortens the loop's dependency chain.
   */
  readonly outHi: Int32Array
  /** Low 32 bits of `outShifted[b]`. */
  readonly outLo: Int32Array
}

const cache = new Map<Polynomial, ChunkerTables>()

/**
 * The tables for `pol`, computed once per polynomial and cached.
 * Throws `InvalidPolynomial` unless 8 ≤ deg(pol) ≤ 53 (restic's chunker rejects the others too).
 */
export function chunkerTables(pol: Polynomial): ChunkerTables {
  const cached = cache.get(pol)
  if (cached) return cached
  const degree = polynomialDegree(pol)
  if (degree < 8 || degree > 53) {
    const hex = pol >= 0n && pol < 1n << 64n ? formatPolynomial(pol) : String(pol)
    throw new RusticError('InvalidInput', `chunker polynomial ${hex} has degree ${degree}; it must be between 8 and 53`, {
      code: 'InvalidPolynomial',
    })
  }
  const modHi = new Int32Array(256)
  const modLo = new Int32Array(256)
  const outHi = new Int32Array(256)
  const outLo = new Int32Array(256)
  const k = BigInt(degree)
  const split = (v: bigint, hi: Int32Array, lo: Int32Array, b: number): void => {
    hi[b] = Number(v >> 32n) | 0
    lo[b] = Number(v & 0xffffffffn) | 0
  }
  // out[b] = b · x^(8·63) mod P; the loop xors it in after the shift, so it needs out[b] · x^8.
  const outShifted = polynomialPowTable(pol, 8 * WINDOW_SIZE)
  const r0 = polynomialPowTable(pol, degree)
  for (let b = 0; b < 256; b++) {
    split(outShifted[b]!, outHi, outLo, b)
    split(r0[b]! | (BigInt(b) << k), modHi, modLo, b)
  }
  const tables: ChunkerTables = { pol, degree, polShift: degree - 8, modHi, modLo, outHi, outLo }
  cache.set(pol, tables)
  return tables
}

/**
 * `table[b] = (b · x^e) mod pol` for every byte `b` (bit i of `b` = coefficient of x^i). Built from
 * x^e … x^(e+7) mod pol, since the map is linear in `b`.
 */
export function polynomialPowTable(pol: Polynomial, e: number): bigint[] {
  const k = BigInt(polynomialDegree(pol))
  const top = 1n << k
  let v = 1n
  for (let i = 0; i < e; i++) {
    v <<= 1n
    if (v & top) v ^= pol
  }
  const basis: bigint[] = []
  for (let j = 0; j < 8; j++) {
    basis.push(v)
    v <<= 1n
    if (v & top) v ^= pol
  }
  const table: bigint[] = [0n]
  for (let b = 1; b < 256; b++) table.push(table[b & (b - 1)]! ^ basis[31 - Math.clz32(b & -b)]!)
  return table
}
