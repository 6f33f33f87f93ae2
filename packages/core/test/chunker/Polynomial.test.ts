import { describe, expect, test } from 'vitest'
import { isRusticError } from '../../src/error/index.js'
import {
  formatPolynomial,
  isIrreducible,
  parsePolynomial,
  polynomialDegree,
  polynomialGcd,
  polynomialMod,
  polynomialMulMod,
  randomPolynomial,
} from '../../src/chunker/index.js'

const bin = (s: string): bigint => BigInt('0b' + s)

describe('polynomial arithmetic over GF(2) (restic polynomials_test.go)', () => {
  test('degree', () => {
    expect(polynomialDegree(0n)).toBe(-1)
    expect(polynomialDegree(1n)).toBe(0)
    for (let i = 0; i < 64; i++) expect(polynomialDegree(1n << BigInt(i))).toBe(i)
    expect(polynomialDegree(0x3af4b284899n)).toBe(41)
  })

  test('mod', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [10n, 50n, 10n],
      [0n, 1n, 0n],
      [bin('101101001'), bin('1010'), bin('1')],
      [2n, 2n, 0n],
      [0x8000000000000000n, 0x8000000000000000n, 0n],
      [bin('1100'), bin('100'), bin('0')],
      [bin('1100001111'), bin('10011'), bin('0')],
    ]
    for (const [x, d, r] of cases) expect(polynomialMod(x, d)).toBe(r)
    expect(() => polynomialMod(5n, 0n)).toThrow(/division by zero/)
  })

  test('gcd', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [10n, 50n, 2n],
      [0n, 1n, 1n],
      [bin('101101001'), bin('1010'), bin('1')],
      [2n, 2n, 2n],
      [bin('1010'), bin('11'), bin('11')],
      [0x8000000000000000n, 0x8000000000000000n, 0x8000000000000000n],
      [bin('1100'), bin('101'), bin('11')],
      [bin('1100001111'), bin('10011'), bin('10011')],
      [0x3da3358b4dc173n, 0x3da3358b4dc173n, 0x3da3358b4dc173n],
      [0x3da3358b4dc173n, 0x230d2259defdn, 1n],
      [0x230d2259defdn, 0x51b492b3eff2n, bin('10011')],
    ]
    for (const [a, b, g] of cases) {
      expect(polynomialGcd(a, b)).toBe(g)
      expect(polynomialGcd(b, a)).toBe(g)
    }
  })

  test('mulMod', () => {
    expect(polynomialMulMod(0x1230n, 0x230n, 0x55n)).toBe(0x22n)
    expect(polynomialMulMod(0x0eae8c07dbbb3026n, 0xd5d6db9de04771den, 0xdd2bda3b77c9n)).toBe(0x425ae8595b7an)
  })
})

describe('irreducibility (Ben-Or)', () => {
  test("restic's table of (ir)reducible degree-53 polynomials", () => {
    const table: Array<[bigint, boolean]> = [
      [0x38f1e565e288dfn, false],
      [0x3da3358b4dc173n, true],
      [0x30a8295b9d5c91n, false],
      [0x255f4350b962cbn, false],
      [0x267f776110a235n, false],
      [0x2f4dae10d41227n, false],
      [0x2482734cacca49n, true],
      [0x312daf4b284899n, false],
      [0x29dfb6553d01d1n, false],
      [0x3548245eb26257n, false],
      [0x3199e7ef4211b3n, false],
      [0x362f39017dae8bn, false],
      [0x200d57aa6fdacbn, false],
      [0x35e0a4efa1d275n, false],
      [0x2ced55b026577fn, false],
      [0x260b012010893dn, false],
      [0x2df29cbcd59e9dn, false],
      [0x3f2ac7488bd429n, false],
      [0x3e5cb1711669fbn, false],
      [0x226d8de57a9959n, false],
      [0x3c8de80aaf5835n, false],
      [0x2026a59efb219bn, false],
      [0x39dfa4d13fb231n, false],
      [0x3143d0464b3299n, false],
    ]
    for (const [p, irreducible] of table) expect(isIrreducible(p), p.toString(16)).toBe(irreducible)
  })

  test('small polynomials, checked by brute force factoring', () => {
    // x^2+x+1, x^3+x+1, x^4+x+1 are irreducible; x^2+1 = (x+1)^2, x^4+x^2+1 = (x^2+x+1)^2 are not
    expect(isIrreducible(0b111n)).toBe(true)
    expect(isIrreducible(0b1011n)).toBe(true)
    expect(isIrreducible(0b10011n)).toBe(true)
    expect(isIrreducible(0b101n)).toBe(false)
    expect(isIrreducible(0b10101n)).toBe(false)
    for (let p = 2n; p < 1024n; p++) {
      let factor = false
      for (let q = 2n; polynomialDegree(q) <= polynomialDegree(p) / 2 && !factor; q++) factor = polynomialMod(p, q) === 0n
      expect(isIrreducible(p), p.toString(2)).toBe(!factor)
    }
    expect(isIrreducible(0n)).toBe(false)
    expect(isIrreducible(1n)).toBe(false)
  })
})

describe('random polynomials', () => {
  test('are irreducible, degree 53, with the constant term, and differ', () => {
    const seen = new Set<bigint>()
    for (let i = 0; i < 5; i++) {
      const p = randomPolynomial()
      expect(polynomialDegree(p)).toBe(53)
      expect(p & 1n).toBe(1n)
      expect(isIrreducible(p)).toBe(true)
      seen.add(p)
    }
    expect(seen.size).toBe(5)
  })
})

describe('hex form (repository config chunker_polynomial)', () => {
  test('parse and format round-trip, lowercase without 0x', () => {
    expect(parsePolynomial('37804f79ed6e77')).toBe(0x37804f79ed6e77n)
    expect(parsePolynomial('3DA3358B4DC173')).toBe(0x3da3358b4dc173n)
    expect(formatPolynomial(0x3da3358b4dc173n)).toBe('3da3358b4dc173')
    expect(formatPolynomial(parsePolynomial('0037804f79ed6e77'))).toBe('37804f79ed6e77')
  })

  test('rejects what is not 1–16 hex digits', () => {
    for (const bad of ['', '0x37804f79ed6e77', 'xyz', '12345678901234567', ' 1']) {
      try {
        parsePolynomial(bad)
        expect.unreachable(bad)
      } catch (e) {
        expect(isRusticError(e, 'InvalidPolynomial')).toBe(true)
      }
    }
    expect(() => formatPolynomial(-1n)).toThrow(/64 bits/)
  })
})
