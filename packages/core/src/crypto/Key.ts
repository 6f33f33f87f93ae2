import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
  type Cipher,
  type KeyObject,
} from 'node:crypto'
import { inspect } from 'node:util'
import { RusticError } from '../error/RusticError.js'
import { poly1305Provider } from './Poly1305.js'

/** Bytes that sealing adds: a 16-byte IV in front and a 16-byte MAC at the end. */
export const CIPHERTEXT_OVERHEAD = 32

/** Bytes of the IV in front of sealed data. */
export const IV_SIZE = 16
/** Bytes of the MAC at the end of sealed data. */
export const MAC_SIZE = 16
/** AES-CTR is fed in pieces of at most this size: one huge `update` is much slower. */
const AES_PIECE = 1 << 20
/**
 * {@link Key.decryptPieces} hands out plaintext in pieces of at most this size by default: each is a new buffer,
 * and below glibc's mmap threshold (128 KiB) its memory is reused from the heap instead of being mapped (and
 * faulted in) afresh, and it never counts as a large buffer for the garbage collector to drop.
 */
const DECRYPT_PIECE = 64 << 10


/** Random IVs are cut from a pool refilled from the CSPRNG: one `randomFillSync` per 256 IVs instead of per IV. */
const ivPool = Buffer.alloc(16 * 256)
let ivPoolPos = ivPool.length

function nextIv(into: Uint8Array): void {
  for (;;) {
    if (ivPoolPos >= ivPool.length) {
      randomFillSync(ivPool)
      ivPoolPos = 0
    }
    const iv = ivPool.subarray(ivPoolPos, ivPoolPos + IV_SIZE)
    ivPoolPos += IV_SIZE
    let zero = true
    for (let i = 0; i < IV_SIZE; i++) if (iv[i] !== 0) zero = false
    if (zero) continue // restic refuses an all-zero IV
    into.set(iv)
    iv.fill(0) // never keep a used IV around
    return
  }
}

/** The Poly1305 `r` clamp mask that restic applies to the `r` half of the MAC key. */
const CLAMP = Uint8Array.from([0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f])

/** The master key JSON of restic (the plaintext sealed in a key file's `data`). */
export interface MasterKeyJson {
  /** The MAC key: `k` (AES-128 key, base64 of 16 bytes) and `r` (Poly1305 r, base64 of 16 bytes). */
  mac: { k: string; r: string }
  /** The AES-256 encryption key, base64 of 32 bytes. */
  encrypt: string
}

function clamp(r: Uint8Array): Uint8Array {
  const out = new Uint8Array(16)
  for (let i = 0; i < 16; i++) out[i] = r[i]! & CLAMP[i]!
  return out
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

function fromB64(s: string, length: number, name: string): Uint8Array {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'base64') : Buffer.alloc(0)
  if (bytes.length !== length || bytes.toString('base64') !== s) {
    throw new RusticError('Cryptography', `invalid master key: "${name}" must be ${length} base64-encoded bytes`, {
      code: 'DecodeError',
    })
  }
  return new Uint8Array(bytes)
}

function checkLength(bytes: Uint8Array, length: number, name: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new RusticError('InvalidInput', `key part ${name} must be ${length} bytes`, { code: 'InvalidKey' })
  }
}

/**
 * A restic key: AES-256 for encryption plus Poly1305-AES (`k`, `r`) for authentication. The
 * repository's master key and the user keys derived from passwords are both `Key`s.
 *
 * Sealed data is `IV(16) || AES-256-CTR(plaintext) || Poly1305-AES(ciphertext)(16)`.
 * The key bytes are held in private fields: they never show in `JSON.stringify`, logs or errors.
 */
export class Key {
  readonly #encKey: KeyObject
  readonly #macKey: KeyObject
  #nonceCipher: Cipher | undefined
  readonly #encrypt: Uint8Array
  readonly #k: Uint8Array
  readonly #r: Uint8Array
  readonly #rClamped: Uint8Array

  private constructor(encrypt: Uint8Array, k: Uint8Array, r: Uint8Array) {
    this.#encrypt = Uint8Array.from(encrypt)
    this.#k = Uint8Array.from(k)
    this.#r = Uint8Array.from(r)
    this.#rClamped = clamp(r)
    this.#encKey = createSecretKey(this.#encrypt)
    this.#macKey = createSecretKey(this.#k)
  }

  /** A new random key (as `restic init` makes a master key; `r` is stored clamped). */
  static random(): Key {
    const bytes = randomBytes(64)
    return new Key(bytes.subarray(0, 32), bytes.subarray(32, 48), clamp(bytes.subarray(48, 64)))
  }

  /** A key from its parts: the 32-byte AES-256 key, the 16-byte AES-128 MAC key `k` and the 16-byte Poly1305 `r`. */
  static fromParts(encrypt: Uint8Array, macK: Uint8Array, macR: Uint8Array): Key {
    checkLength(encrypt, 32, 'encrypt')
    checkLength(macK, 16, 'mac.k')
    checkLength(macR, 16, 'mac.r')
    return new Key(encrypt, macK, macR)
  }

  /** A key from restic's master key JSON (`{"mac":{"k":…,"r":…},"encrypt":…}`, base64 values). */
  static fromMasterKeyJson(obj: MasterKeyJson): Key {
    if (typeof obj !== 'object' || obj === null || typeof obj.mac !== 'object' || obj.mac === null) {
      throw new RusticError('Cryptography', 'invalid master key: expected {"mac":{"k","r"},"encrypt"}', { code: 'DecodeError' })
    }
    return new Key(fromB64(obj.encrypt, 32, 'encrypt'), fromB64(obj.mac.k, 16, 'mac.k'), fromB64(obj.mac.r, 16, 'mac.r'))
  }

  /** restic's master key JSON for this key; serialise it with `goJson` to get restic's bytes. */
  toMasterKeyJson(): MasterKeyJson {
    return { mac: { k: b64(this.#k), r: b64(this.#r) }, encrypt: b64(this.#encrypt) }
  }

  /** True if both keys have the same bytes. */
  equals(other: Key): boolean {
    return (
      timingSafeEqual(this.#encrypt, other.#encrypt) && timingSafeEqual(this.#k, other.#k) && timingSafeEqual(this.#r, other.#r)
    )
  }

  /** Seals `plain`: returns `IV || AES-256-CTR ciphertext || MAC`, {@link CIPHERTEXT_OVERHEAD} bytes longer. */
  encrypt(plain: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafeSlow(plain.length + CIPHERTEXT_OVERHEAD) // not from the shared pool: `.buffer` holds only this
    this.encryptInto(plain, out, 0)
    return new Uint8Array(out.buffer, out.byteOffset, out.length)
  }

  /**
   * Seals `plain` into `out` at offset `at`, as {@link Key.encrypt} does, and returns the sealed length
   * (`plain.length` + {@link CIPHERTEXT_OVERHEAD}). `plain` may be the bytes of `out` at `at + 16`: it is
   * then encrypted in place.
   * @param piece - the cipher and the MAC take at most this many bytes at a time (the cipher gives a new
   *   buffer for each piece: a thread that must not drop large buffers passes a small size).
   */
  encryptInto(plain: Uint8Array, out: Uint8Array, at: number, piece = AES_PIECE): number {
    const n = plain.length
    const body = at + IV_SIZE
    const iv = out.subarray(at, body)
    nextIv(iv)
    // CTR is a stream cipher: `update` returns as many bytes as it gets, and `final` adds none.
    const cipher = createCipheriv('aes-256-ctr', this.#encKey, iv)
    if (n <= piece) {
      const ct = cipher.update(plain)
      out.set(ct, body)
      out.set(poly1305Provider().mac(ct, this.#polyKey(iv)), body + n)
    } else {
      // Big inputs: MAC each piece right after encrypting it, while it is still in the CPU cache.
      const mac = poly1305Provider().create(this.#polyKey(iv))
      for (let off = 0; off < n; off += piece) {
        const ct = cipher.update(plain.subarray(off, Math.min(n, off + piece)))
        out.set(ct, body + off)
        mac.update(ct)
      }
      out.set(mac.digest(), body + n)
    }
    return n + CIPHERTEXT_OVERHEAD
  }

  /**
   * Opens data sealed by {@link encrypt}. The MAC is checked (in constant time) before anything is decrypted.
   * @param what - names the data for the error message, e.g. `snapshot 1a2b3c4d`.
   * @throws RusticError `Cryptography`/`MacMismatch` if the data is too short or its MAC does not match.
   */
  decrypt(sealed: Uint8Array, what: string): Uint8Array {
    const iv = this.#checkMac(sealed, what)
    const ct = sealed.subarray(IV_SIZE, sealed.length - MAC_SIZE)
    const n = ct.length
    const decipher = createDecipheriv('aes-256-ctr', this.#encKey, iv)
    if (n <= AES_PIECE) {
      const res = decipher.update(ct)
      return new Uint8Array(res.buffer, res.byteOffset, res.length)
    }
    const out = Buffer.allocUnsafeSlow(n) // every byte is written below
    for (let off = 0; off < n; off += AES_PIECE) out.set(decipher.update(ct.subarray(off, Math.min(n, off + AES_PIECE))), off)
    return new Uint8Array(out.buffer, out.byteOffset, n)
  }

  /**
   * Opens data sealed by {@link encrypt} without holding its whole plaintext: the MAC is checked first (as
   * {@link Key.decrypt} does, with the same errors), then the plaintext is handed to `each` in order, in
   * pieces of at most `piece` bytes (each a new buffer; 64 KiB by default, which keeps them small for the
   * allocator and the garbage collector). Returns the plaintext length.
   */
  decryptPieces(sealed: Uint8Array, what: string, each: (plain: Uint8Array) => void, piece = DECRYPT_PIECE): number {
    const iv = this.#checkMac(sealed, what)
    const ct = sealed.subarray(IV_SIZE, sealed.length - MAC_SIZE)
    const n = ct.length
    const decipher = createDecipheriv('aes-256-ctr', this.#encKey, iv)
    for (let off = 0; off < n; off += piece) each(decipher.update(ct.subarray(off, Math.min(n, off + piece))))
    return n
  }

  /** Checks the MAC of sealed data (see {@link Key.decrypt}); returns its IV. */
  #checkMac(sealed: Uint8Array, what: string): Uint8Array {
    if (sealed.length < CIPHERTEXT_OVERHEAD) {
      throw new RusticError(
        'Cryptography',
        `MAC check failed for ${what}: ${sealed.length} bytes are too short to hold IV and MAC: the data is corrupted or truncated`,
        { code: 'MacMismatch' },
      )
    }
    const iv = sealed.subarray(0, IV_SIZE)
    const ct = sealed.subarray(IV_SIZE, sealed.length - MAC_SIZE)
    const tag = sealed.subarray(sealed.length - MAC_SIZE)
    if (!timingSafeEqual(poly1305Provider().mac(ct, this.#polyKey(iv)), tag)) {
      throw new RusticError('Cryptography', `MAC check failed for ${what}: the data is corrupted or was tampered with`, {
        code: 'MacMismatch',
      })
    }
    return iv
  }

  /** The one-time Poly1305 key of Poly1305-AES for `iv`: clamp(r) || AES-128(k, IV). */
  #polyKey(iv: Uint8Array): Uint8Array {
    // one reusable ECB cipher: with whole blocks and no padding, each update is independent
    this.#nonceCipher ??= createCipheriv('aes-128-ecb', this.#macKey, null).setAutoPadding(false)
    const s = this.#nonceCipher.update(iv)
    const polyKey = new Uint8Array(32)
    polyKey.set(this.#rClamped, 0)
    polyKey.set(s, 16)
    return polyKey
  }

  /** Keeps key bytes out of `console.log` / `util.inspect`. */
  [inspect.custom](): string {
    return 'Key { <redacted> }'
  }

  /** Keeps key bytes out of `JSON.stringify`. */
  toJSON(): string {
    return '<redacted key>'
  }
}
