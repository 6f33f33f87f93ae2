import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CIPHERTEXT_OVERHEAD, isRusticError, Key } from '@rustic-ts/core/internal'
import { thrown } from '../error/thrown.js'

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))

describe('Key', () => {
  it('decrypts restic\'s crypto test vector (unclamped r)', () => {
    const key = Key.fromParts(
      hex('303e8687b1d7db18421bdc6bb8588ccadac4d59ee87b8ff70c44e635790cafef'),
      hex('ef4d8824cb80b2bcc5fbff8a9b12a42c'),
      hex('cc8d4b948ee0ebfe1d415de921d10353'),
    )
    const sealed = hex('69fb41c62d12def4593bd71757138606338f621aeaeb39da0fe4f99233f8037a54ea63338a813bcf3f75d8c3cc75dddf8750')
    expect(Buffer.from(key.decrypt(sealed, 'vector')).toString()).toBe('Dies ist ein Test!')
  })

  it('round-trips data of many sizes, with 32 bytes overhead and a fresh IV each time', () => {
    const key = Key.random()
    expect(CIPHERTEXT_OVERHEAD).toBe(32)
    for (const size of [0, 1, 16, 1000, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 17]) {
      const plain = randomBytes(size)
      const a = key.encrypt(plain)
      const b = key.encrypt(plain)
      expect(a.length).toBe(size + 32)
      expect(Buffer.from(a.subarray(0, 16)).equals(Buffer.from(b.subarray(0, 16)))).toBe(false)
      expect(Buffer.from(key.decrypt(a, 'x')).equals(plain)).toBe(true)
      expect(Buffer.from(key.decrypt(b, 'x')).equals(plain)).toBe(true)
    }
  })

  it('accepts subarray views as input', () => {
    const key = Key.random()
    const buf = new Uint8Array(100)
    buf.set(key.encrypt(new TextEncoder().encode('view')), 10)
    expect(new TextDecoder().decode(key.decrypt(buf.subarray(10, 10 + 36), 'view'))).toBe('view')
  })

  it('detects one flipped bit anywhere (IV, ciphertext, MAC) with MacMismatch naming the object', () => {
    const key = Key.random()
    const sealed = key.encrypt(randomBytes(200))
    for (const pos of [0, 15, 16, 100, 215, 216, 231]) {
      const bad = Uint8Array.from(sealed)
      bad[pos]! ^= 0x01
      const err = thrown(() => key.decrypt(bad, 'snapshot 1a2b3c4d'))
      expect(err.code).toBe('MacMismatch')
      expect(err.kind).toBe('Cryptography')
      expect(err.message).toBe('MAC check failed for snapshot 1a2b3c4d: the data is corrupted or was tampered with')
    }
  })

  it('rejects data shorter than IV + MAC, and data sealed by another key', () => {
    const key = Key.random()
    expect(thrown(() => key.decrypt(new Uint8Array(31), 'pack 1234abcd blob at offset 100')).code).toBe('MacMismatch')
    expect(isRusticError(thrown(() => Key.random().decrypt(key.encrypt(new Uint8Array(5)), 'x')), 'MacMismatch')).toBe(true)
  })

  it('decryptPieces hands out the plaintext in pieces after the same MAC check as decrypt', () => {
    const key = Key.random()
    for (const n of [0, 1, 1000, 3 * 65536 + 7]) {
      const plain = randomBytes(n)
      const sealed = key.encrypt(plain)
      const pieces: Uint8Array[] = []
      expect(key.decryptPieces(sealed, 'data', (p) => pieces.push(Uint8Array.from(p)), 65536)).toBe(n)
      expect(pieces.every((p) => p.length <= 65536)).toBe(true)
      expect(Buffer.concat(pieces)).toEqual(Buffer.from(plain))
      const damaged = sealed.slice()
      damaged[damaged.length - 1]! ^= 1
      const got: Uint8Array[] = []
      expect(thrown(() => key.decryptPieces(damaged, 'data', (p) => got.push(p))).message).toBe(thrown(() => key.decrypt(damaged, 'data')).message)
      expect(got).toEqual([])
    }
  })

  it('round-trips the master key JSON and clamps r only when used', () => {
    const json = { mac: { k: '9Lj3Q1k0ZG3aQ8jWv0PJ9w==', r: '/////////////////////w==' }, encrypt: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=' }
    const key = Key.fromMasterKeyJson(json)
    expect(key.toMasterKeyJson()).toEqual(json)
    expect(key.decrypt(key.encrypt(new Uint8Array([1, 2, 3])), 'x')).toEqual(new Uint8Array([1, 2, 3]))
    // Same key with r pre-clamped: identical MACs.
    const clamped = Key.fromParts(
      new Uint8Array(Buffer.from(json.encrypt, 'base64')),
      new Uint8Array(Buffer.from(json.mac.k, 'base64')),
      hex('ffffff0ffcffff0ffcffff0ffcffff0f'),
    )
    expect(clamped.decrypt(key.encrypt(new Uint8Array([4])), 'x')).toEqual(new Uint8Array([4]))
    expect(clamped.equals(key)).toBe(false)
    expect(Key.fromMasterKeyJson(key.toMasterKeyJson()).equals(key)).toBe(true)
  })

  it('random keys store a clamped r, as restic does', () => {
    const r = Buffer.from(Key.random().toMasterKeyJson().mac.r, 'base64')
    for (const i of [3, 7, 11, 15]) expect(r[i]! & 0xf0).toBe(0)
    for (const i of [4, 8, 12]) expect(r[i]! & 0x03).toBe(0)
  })

  it('rejects malformed master keys and key parts', () => {
    expect(thrown(() => Key.fromMasterKeyJson({ mac: { k: 'AAAA', r: 'AAAA' }, encrypt: 'AAAA' })).code).toBe('DecodeError')
    expect(thrown(() => Key.fromParts(new Uint8Array(31), new Uint8Array(16), new Uint8Array(16))).kind).toBe('InvalidInput')
  })

  it('never shows key bytes in JSON or inspect output', () => {
    const key = Key.random()
    const { encrypt } = key.toMasterKeyJson()
    expect(JSON.stringify({ key })).not.toContain(encrypt)
    expect(inspect(key)).not.toContain(encrypt)
    expect(inspect(key, { showHidden: true })).toBe('Key { <redacted> }')
    expect(Object.keys(key)).toEqual([])
  })
})
