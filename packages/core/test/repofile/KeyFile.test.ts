import { describe, expect, it } from 'vitest'
import {
  createKeyFile,
  hashId,
  isRusticError,
  Key,
  openKeyFile,
  parseKeyFile,
  RawJson,
  serializeKeyFile,
} from '@rustic-ts/core/internal'

const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const FAST = { N: 1024, r: 8, p: 1 }

describe('key file', () => {
  it('creates restic-shaped key files that open to the master key', async () => {
    const master = Key.random()
    const { keyFile, bytes } = await createKeyFile(master, 'secret', {
      username: 'me',
      hostname: 'host',
      created: new Date('2026-11-23T15:19:54.843Z'),
      kdf: FAST,
    })
    const text = dec(bytes)
    expect(text).toMatch(
      /^\{"created":"2026-11-23T15:19:54\.843Z","username":"me","hostname":"host","kdf":"scrypt","N":1024,"r":8,"p":1,"salt":"[A-Za-z0-9+/]{86}==","data":"[A-Za-z0-9+/=]+"\}$/,
    )
    expect(Buffer.from(keyFile.salt, 'base64').length).toBe(64)
    // The sealed master key JSON: {"mac":{"k":24 chars,"r":24 chars},"encrypt":44 chars} = 128 bytes + 32 (as restic).
    expect(Buffer.from(keyFile.data, 'base64').length).toBe(128 + 32)
    const parsed = parseKeyFile(bytes, `key ${hashId(bytes)}`)
    expect(parsed).toEqual(keyFile)
    expect(serializeKeyFile(parsed)).toEqual(bytes)
    expect((await openKeyFile(parsed, 'secret')).equals(master)).toBe(true)
    // Defaults: now (with sub-millisecond digits possible), current user and host, default scrypt parameters.
    const def = await createKeyFile(master, new Uint8Array([1, 2, 3]))
    expect(def.keyFile.N).toBe(32768)
    expect(Date.now() - Date.parse(def.keyFile.created!)).toBeLessThan(60_000)
    expect((await openKeyFile(def.keyFile, new Uint8Array([1, 2, 3]))).equals(master)).toBe(true)
  })

  it('rejects a wrong password with IncorrectPassword (and no secret in the message)', async () => {
    const { keyFile } = await createKeyFile(Key.random(), 'right', { kdf: FAST })
    const err = await openKeyFile(keyFile, 'wrong-pw-xyz', 'key 1a2b3c4d').catch((e: unknown) => e)
    expect(isRusticError(err, 'IncorrectPassword')).toBe(true)
    expect((err as { kind: string }).kind).toBe('Credentials')
    expect((err as Error).message).toMatch(/^incorrect password/)
    expect((err as Error).message).toContain('key 1a2b3c4d')
    expect((err as Error).message).not.toContain('wrong-pw-xyz')
  })

  it('keeps unknown fields verbatim', async () => {
    const { bytes } = await createKeyFile(Key.random(), 'pw', { kdf: FAST })
    const text = dec(bytes).slice(0, -1) + ',"future":{"x":[1,2.50]},"note":"\\u00e9"}'
    const k = parseKeyFile(enc(text), 'key')
    expect(k.extra).toEqual({ future: new RawJson('{"x":[1,2.50]}'), note: new RawJson('"\\u00e9"') })
    expect(dec(serializeKeyFile(k))).toBe(text)
    await expect(openKeyFile(k, 'pw')).resolves.toBeInstanceOf(Key)
  })

  it('rejects malformed key files with DecodeError', async () => {
    const { keyFile, bytes } = await createKeyFile(Key.random(), 'pw', { kdf: FAST })
    const text = dec(bytes)
    for (const bad of [
      text.replace('"scrypt"', '"argon2"'),
      text.replace(/"salt":"[^"]+"/, '"salt":"not base64!"'),
      text.replace('"N":1024', '"N":"1024"'),
      '{}',
      'null',
    ]) {
      let err: unknown
      try {
        parseKeyFile(enc(bad), 'key 1a2b3c4d')
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'DecodeError')).toBe(true)
      expect((err as Error).message).toContain('key 1a2b3c4d')
    }
    const shortSalt = { ...keyFile, salt: Buffer.alloc(32).toString('base64') }
    expect(isRusticError(await openKeyFile(shortSalt, 'pw').catch((e: unknown) => e), 'DecodeError')).toBe(true)
  })
})
