import { pbkdf2Sync, randomBytes, randomInt, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { romixWasm } from '../../src/crypto/scryptRomixWasm.js'

describe('romixWasm', () => {
  it('loads (built from romix.wat) and mixes lanes, keeping all, half or a quarter of the blocks of V, to the bytes of node:crypto scrypt (random passwords, salts, N = 2^1..2^10, r 1-8, p 1-7)', () => {
    for (let k = 0; k < 36; k++) {
      const shift = (k % 3) as 0 | 1 | 2
      const N = 2 ** randomInt(1, 11)
      const r = randomInt(1, 9)
      const p = randomInt(1, 8)
      const password = randomBytes(randomInt(0, 40))
      const salt = randomBytes(k % 4 === 0 ? 64 : randomInt(0, 100))
      const mix = romixWasm(N, r, shift)
      expect(mix).toBeDefined()
      const b = pbkdf2Sync(password, salt, 1, p * 128 * r, 'sha256')
      for (let i = 0; i < p; i++) mix!(b.subarray(i * 128 * r, (i + 1) * 128 * r))
      const params = JSON.stringify({ N, r, p, shift, password: password.length, salt: salt.length })
      expect(pbkdf2Sync(password, b, 1, 64, 'sha256').toString('hex'), params).toBe(scryptSync(password, salt, 64, { N, r, p }).toString('hex'))
    }
  })

  it('refuses a lane of the wrong size', () => {
    expect(() => romixWasm(16, 2)!(new Uint8Array(128))).toThrow(RangeError)
  })
})
