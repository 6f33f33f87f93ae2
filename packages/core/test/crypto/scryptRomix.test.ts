import { pbkdf2Sync, randomBytes, randomInt, scryptSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { romixScratchWords, scryptRomix } from '../../src/crypto/scryptRomix.js'

/** scrypt from its parts: PBKDF2, ROMix of each lane (in one reused scratch), PBKDF2. */
function scryptByLanes(password: Uint8Array, salt: Uint8Array, N: number, r: number, p: number): Buffer {
  const b = pbkdf2Sync(password, salt, 1, p * 128 * r, 'sha256')
  const scratch = new Int32Array(romixScratchWords(N, r))
  for (let i = 0; i < p; i++) scryptRomix(b.subarray(i * 128 * r, (i + 1) * 128 * r), N, r, scratch)
  return pbkdf2Sync(password, b, 1, 64, 'sha256')
}

describe('scryptRomix', () => {
  it('mixes lanes to the bytes of node:crypto scrypt (random passwords, salts, N = 2^1..2^10, r 1-8, p 1-7)', () => {
    for (let k = 0; k < 24; k++) {
      const N = 2 ** randomInt(1, 11)
      const r = randomInt(1, 9)
      const p = randomInt(1, 8)
      const password = randomBytes(randomInt(0, 40))
      const salt = randomBytes(k % 3 === 0 ? 64 : randomInt(0, 100))
      const params = JSON.stringify({ N, r, p, password: password.length, salt: salt.length })
      expect(scryptByLanes(password, salt, N, r, p).toString('hex'), params).toBe(scryptSync(password, salt, 64, { N, r, p }).toString('hex'))
    }
  })

  it('mixes a lane in memory of its own, at any offset of a buffer, and refuses a lane of the wrong size or a small scratch', () => {
    const password = randomBytes(12)
    const salt = randomBytes(64)
    const lane = new Uint8Array(3 + 128 * 2).subarray(3) // not 4-aligned
    lane.set(pbkdf2Sync(password, salt, 1, 128 * 2, 'sha256'))
    scryptRomix(lane, 64, 2)
    expect(pbkdf2Sync(password, lane, 1, 64, 'sha256').equals(scryptSync(password, salt, 64, { N: 64, r: 2, p: 1 }))).toBe(true)
    expect(() => scryptRomix(new Uint8Array(100), 64, 1)).toThrow(RangeError)
    expect(() => scryptRomix(new Uint8Array(128), 64, 1, new Int32Array(10))).toThrow(RangeError)
  })
})
