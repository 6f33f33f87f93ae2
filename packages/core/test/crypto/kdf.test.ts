import { scryptAsync } from '@noble/hashes/scrypt.js'
import { describe, expect, it } from 'vitest'
import { DEFAULT_KDF_PARAMS, deriveKey, isRusticError, validateKdfParams } from '@rustic-ts/core/internal'

function parts(json: { mac: { k: string; r: string }; encrypt: string }): string {
  return [json.encrypt, json.mac.k, json.mac.r].map((b) => Buffer.from(b, 'base64').toString('hex')).join('')
}

describe('deriveKey (scrypt)', () => {
  it('matches RFC 7914 §12 (password "password", salt "NaCl", N=1024, r=8, p=16) split into enc/k/r', async () => {
    const key = await deriveKey('password', new TextEncoder().encode('NaCl'), { N: 1024, r: 8, p: 16 })
    expect(parts(key.toMasterKeyJson())).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162' +
        '2eaf30d92e22a3886ff109279d9830da' +
        'c727afb94a83ee6d8360cbdfa2cc0640',
    )
  })

  it('handles restic-sized parameters (N=32768, r=8) that exceed node\'s default maxmem, and agrees with @noble/hashes', async () => {
    const salt = new Uint8Array(64).fill(7)
    const pw = 'pässwörd'
    const key = await deriveKey(pw, salt, { N: 32768, r: 8, p: 1 })
    const noble = await scryptAsync(new TextEncoder().encode(pw), salt, { N: 32768, r: 8, p: 1, dkLen: 64 })
    expect(parts(key.toMasterKeyJson())).toBe(Buffer.from(noble).toString('hex'))
    // A password given as bytes is used as is.
    const same = await deriveKey(new TextEncoder().encode(pw), salt, { N: 32768, r: 8, p: 1 })
    expect(same.equals(key)).toBe(true)
  })

  it('documents restic-like defaults', () => {
    expect(DEFAULT_KDF_PARAMS).toEqual({ N: 32768, r: 8, p: 1 })
  })

  it('rejects unusable parameters', async () => {
    for (const p of [
      { N: 1000, r: 8, p: 1 },
      { N: 1, r: 8, p: 1 },
      { N: 1024, r: 0, p: 1 },
      { N: 2 ** 24, r: 8, p: 1 },
      { N: 1024, r: 8, p: 1.5 },
    ]) {
      expect(() => validateKdfParams(p)).toThrow()
      const err = await deriveKey('x', new Uint8Array(64), p).catch((e: unknown) => e)
      expect(isRusticError(err, 'InvalidKdfParams')).toBe(true)
    }
  })
})
