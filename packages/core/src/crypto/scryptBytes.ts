// Node built-ins only: the CLI also loads this before its program, to start the key derivation early.
import { scrypt } from 'node:crypto'
import type { KdfParams } from './kdf.js'

/** Most memory a key file may ask scrypt for (128·N·r bytes): a hostile key file gets no more. */
export const KDF_MAX_MEMORY = 2 ** 30
const MAX_RP = 2 ** 20

/** Whether scrypt parameters are usable: N a power of two > 1, r and p ≥ 1, 128·N·r ≤ 1 GiB, r·p ≤ 2^20. */
export function kdfParamsValid({ N, r, p }: KdfParams): boolean {
  const ints = Number.isSafeInteger(N) && Number.isSafeInteger(r) && Number.isSafeInteger(p)
  return ints && N > 1 && (N & (N - 1)) === 0 && r >= 1 && p >= 1 && 128 * N * r <= KDF_MAX_MEMORY && r * p <= MAX_RP
}

/** The 64 bytes of `scrypt(password, salt, N, r, p)` from `node:crypto` (on libuv's pool), with `maxmem` raised to what the parameters need. */
export function scryptBytes(password: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Buffer> {
  const maxmem = Math.max(32 << 20, 256 * params.N * params.r + (16 << 20))
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 64, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}
