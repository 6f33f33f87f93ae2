import { pbkdf2Sync, randomBytes, randomInt, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { romixWasm, romixWasmPair } from '../../src/crypto/scryptRomixWasm.js'

/**
 * 36 random scrypt cases (passwords, salts, N = 2^1..2^10, r 1-8, p 1-7, shift 0-2): `mixLanes` replaces the
 * lanes of B (a Buffer of `p` lanes and a function giving lane `i`) by their ROMix, and the result must be
 * node:crypto's scrypt.
 */
function expectScryptBytes(mixLanes: (N: number, r: number, p: number, shift: 0 | 1 | 2, lane: (i: number) => Buffer) => void): void {
  for (let k = 0; k < 36; k++) {
    const shift = (k % 3) as 0 | 1 | 2
    const N = 2 ** randomInt(1, 11)
    const r = randomInt(1, 9)
    const p = randomInt(1, 8)
    const password = randomBytes(randomInt(0, 40))
    const salt = randomBytes(k % 4 === 0 ? 64 : randomInt(0, 100))
    const b = pbkdf2Sync(password, salt, 1, p * 128 * r, 'sha256')
    mixLanes(N, r, p, shift, (i) => b.subarray(i * 128 * r, (i + 1) * 128 * r))
    const params = JSON.stringify({ N, r, p, shift, password: password.length, salt: salt.length })
    expect(pbkdf2Sync(password, b, 1, 64, 'sha256').toString('hex'), params).toBe(scryptSync(password, salt, 64, { N, r, p }).toString('hex'))
  }
}

describe('romixWasm', () => {
  it('loads (built from romix.wat) and mixes lanes, keeping all, half or a quarter of the blocks of V, to the bytes of node:crypto scrypt (random passwords, salts, N = 2^1..2^10, r 1-8, p 1-7)', () => {
    expectScryptBytes((N, r, p, shift, lane) => {
      const mix = romixWasm(N, r, shift)
      expect(mix).toBeDefined()
      for (let i = 0; i < p; i++) mix!(lane(i))
    })
  })

  it('mixes two lanes at once (and an odd last lane in the same memory), keeping all, half or a quarter of V, to the bytes of node:crypto scrypt (random passwords, salts, N = 2^1..2^10, r 1-8, p 1-7)', () => {
    expectScryptBytes((N, r, p, shift, lane) => {
      const mix = romixWasmPair(N, r, shift)
      expect(mix).toBeDefined()
      let i = 0
      for (; i + 1 < p; i += 2) mix!(lane(i), lane(i + 1))
      if (i < p) mix!(lane(i))
    })
  })

  it('refuses a lane of the wrong size', () => {
    expect(() => romixWasm(16, 2)!(new Uint8Array(128))).toThrow(RangeError)
    expect(() => romixWasmPair(16, 2)!(new Uint8Array(256), new Uint8Array(128))).toThrow(RangeError)
  })
})
