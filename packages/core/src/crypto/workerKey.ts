import { createRequire } from 'node:module'
import type { Key } from './Key.js'

/**
 * What a worker thread that seals or opens blobs needs: the paths of the native modules (sodium-native,
 * zstd-napi's binding) and the master key (base64), for {@link WORKER_KEY_SOURCE}. Undefined where the
 * native modules cannot be found.
 */
export function workerKeyData(key: Key): { sodium: string; zstd: string; encrypt: string; k: string; r: string } | undefined {
  let sodium: string
  let zstd: string
  try {
    const require = createRequire(import.meta.url)
    sodium = require.resolve('sodium-native')
    zstd = require.resolve('zstd-napi/binding.js')
  } catch {
    return undefined
  }
  const { mac, encrypt } = key.toMasterKeyJson()
  return { sodium, zstd, encrypt, k: mac.k, r: mac.r }
}

/**
 * CommonJS source text for a worker started with {@link workerKeyData} in its `workerData`: defines
 * `sodium`, `encKey` (AES-256) and `polyKey(iv)`, the one-time Poly1305 key of Poly1305-AES
 * (clamped r || AES-128 of the IV under the MAC key, as `Key` computes it), and wipes the key text
 * from `workerData`.
 */
export const WORKER_KEY_SOURCE = `
const sodium = require(workerData.sodium)
const encKey = require('node:crypto').createSecretKey(Buffer.from(workerData.encrypt, 'base64'))
const CLAMP = [0xff, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f, 0xfc, 0xff, 0xff, 0x0f]
const clampedR = Buffer.from(workerData.r, 'base64').map((b, i) => b & CLAMP[i])
// one reusable ECB cipher: with whole blocks and no padding, each update is independent
const nonceCipher = require('node:crypto')
  .createCipheriv('aes-128-ecb', require('node:crypto').createSecretKey(Buffer.from(workerData.k, 'base64')), null)
  .setAutoPadding(false)
workerData.encrypt = workerData.k = workerData.r = ''
function polyKey(iv) {
  const k = Buffer.alloc(32)
  k.set(clampedR, 0)
  k.set(nonceCipher.update(iv), 16)
  return k
}
`
