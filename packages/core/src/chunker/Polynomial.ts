import { randomBytes } from 'node:crypto'
import { RusticError } from '../error/RusticError.js'

/**
 * A polynomial over GF(2), one bit a coefficient (bit i = coefficient of x^i), as in restic's
 * `chunker.Pol` (a `uint64`). A repository's chunker polynomial is irreducible and of degree 53.
 */
export type Polynomial = bigint

const U64 = (1n << 64n) - 1n
const MAX_TRIES = 1_000_000

/** Degree of `p` (-1 for the zero polynomial); `p` is not negative. */
export function polynomialDegree(p: Polynomial): number {
  if (p === 0n) return -1
  if (p > 0n && p <= U64) {
    const hi = Number(p >> 32n)
    return hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(Number(p))
  }
  return p.toString(2).length - 1
}

/** `x mod d` over GF(2). Throws on `d = 0`. */
export function polynomialMod(x: Polynomial, d: Polynomial): Polynomial {
  if (d === 0n) throw new RusticError('InvalidInput', 'polynomial division by zero')
  const dd = polynomialDegree(d)
  let dx = polynomialDegree(x)
  while (dx >= dd) {
    x ^= d << BigInt(dx - dd)
    dx = polynomialDegree(x)
  }
  return x
}

/** `(a · b) mod g` over GF(2). */
export function polynomialMulMod(a: Polynomial, b: Polynomial, g: Polynomial): Polynomial {
  a = polynomialMod(a, g)
  const dg = polynomialDegree(g)
  const top = 1n << BigInt(dg)
  let res = 0n
  while (b !== 0n) {
    if (b & 1n) res ^= a
    b >>= 1n
    a <<= 1n
    if (a & top) a ^= g
  }
  return res
}

/** Greatest common divisor of two polynomials over GF(2). */
export function polynomialGcd(a: Polynomial, b: Polynomial): Polynomial {
  while (b !== 0n) {
    const r = polynomialMod(a, b)
    a = b
    b = r
  }
  return a
}

/**
 * True if `p` is irreducible over GF(2), by Ben-Or's test as restic does it:
 * gcd(p, x^(2^i) − x mod p) = 1 for every i = 1 … deg(p)/2.
 * Constants (degree < 1) are not irreducible (restic's `Irreducible` says true for them).
 */
export function isIrreducible(p: Polynomial): boolean {
  if (p < 0n || p > U64) return false
  const deg = polynomialDegree(p)
  if (deg < 1) return false
  let xp = 2n // x^(2^0) = x
  for (let i = 1; i <= deg >> 1; i++) {
    xp = polynomialMulMod(xp, xp, p) // x^(2^i) mod p
    if (polynomialGcd(p, polynomialMod(xp ^ 2n, p)) !== 1n) return false
  }
  return true
}

/**
 * A new random irreducible polynomial of degree 53, made the way restic makes one for `restic init`:
 * a random 64-bit number (little endian) is cut to bits 0–53, bits 53 and 0 are set, and this is
 * repeated until the result is irreducible.
 */
export function randomPolynomial(): Polynomial {
  for (let i = 0; i < MAX_TRIES; i++) {
    let f = randomBytes(8).readBigUInt64LE(0)
    f &= (1n << 54n) - 1n
    f |= (1n << 53n) | 1n
    if (isIrreducible(f)) return f
  }
  throw new RusticError('Internal', 'unable to find a random irreducible polynomial')
}

/** Parses a polynomial from hex, as restic stores it in the repository config (`"37804f79ed6e77"`, no `0x`). */
export function parsePolynomial(hex: string): Polynomial {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) {
    throw new RusticError('InvalidInput', `invalid chunker polynomial "${hex.slice(0, 40)}": expected 1 to 16 hex digits`, {
      code: 'InvalidPolynomial',
    })
  }
  return BigInt('0x' + hex)
}

/** Formats a polynomial as restic writes it to the repository config: lowercase hex without `0x`. */
export function formatPolynomial(p: Polynomial): string {
  if (p < 0n || p > U64) throw new RusticError('InvalidInput', `chunker polynomial ${p} does not fit in 64 bits`, { code: 'InvalidPolynomial' })
  return p.toString(16)
}
