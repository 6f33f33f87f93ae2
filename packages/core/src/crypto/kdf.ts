import { RusticError } from '../error/RusticError.js'
import { Key } from './Key.js'
import { KDF_MAX_MEMORY, kdfParamsValid, scryptBytes } from './scryptBytes.js'

/** scrypt parameters, as stored in a key file (`N`, `r`, `p`). */
export interface KdfParams {
  /** CPU/memory cost: a power of two > 1. */
  N: number
  /** Block size. */
  r: number
  /** Parallelisation. */
  p: number
}

/**
 * The parameters rustic-ts uses for new key files: N = 2^15, r = 8, p = 1 (32 MiB of memory,
 * ~0.1 s here). restic calibrates its own (r = 8, N = 32768 and p raised to fill ~0.5 s, so p = 1–4
 * on typical machines); any valid values are accepted when opening a key.
 */
export const DEFAULT_KDF_PARAMS: KdfParams = Object.freeze({ N: 32768, r: 8, p: 1 })

/**
 * Derives the user key of a key file from a password: `scrypt(password, salt, N, r, p, 64)` as
 * {@link deriveKey} does (the default). Another one must give the same key, e.g. by reusing a derivation
 * that was started earlier for the same password, salt and parameters.
 */
export type KeyDeriver = (password: string | Uint8Array, salt: Uint8Array, params: KdfParams) => Promise<Key>

/** Checks scrypt parameters; throws `InvalidKdfParams` if they are unusable. */
export function validateKdfParams(params: KdfParams): void {
  if (!kdfParamsValid(params)) {
    const { N, r, p } = params
    throw new RusticError(
      'Cryptography',
      `invalid scrypt parameters N=${N}, r=${r}, p=${p}: N must be a power of two > 1, r and p >= 1, and 128·N·r at most 1 GiB`,
      { code: 'InvalidKdfParams' },
    )
  }
}

/**
 * Derives a {@link Key} from a password as restic does: `scrypt(password, salt, N, r, p, 64)`, whose
 * bytes 0–31 are the AES key, 32–47 the MAC `k` and 48–63 the MAC `r`.
 * Uses `scryptBytes` (several large lanes on worker threads at once, else `node:crypto` scrypt with `maxmem`
 * raised) and falls back to `@noble/hashes` if that fails.
 */
export async function deriveKey(password: string | Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Key> {
  validateKdfParams(params)
  const pw = typeof password === 'string' ? new TextEncoder().encode(password) : password
  let out: Uint8Array
  try {
    out = await scryptBytes(pw, salt, params)
  } catch {
    // The pure-JS fallback is loaded only when needed (it is not part of start-up).
    const { scryptAsync } = await import('@noble/hashes/scrypt.js')
    out = await scryptAsync(pw, salt, { N: params.N, r: params.r, p: params.p, dkLen: 64, maxmem: 2 * KDF_MAX_MEMORY })
  }
  return keyFromKdfBytes(out)
}

/** The {@link Key} in scrypt's 64 bytes (AES key, MAC `k`, MAC `r`), which are then zeroed. */
export function keyFromKdfBytes(out: Uint8Array): Key {
  const key = Key.fromParts(out.subarray(0, 32), out.subarray(32, 48), out.subarray(48, 64))
  out.fill(0)
  return key
}
