import { compress, decompress } from '../compression/Zstd.js'
import { DEFAULT_COMPRESSION_LEVEL } from '../compression/CompressionMode.js'
import { decodeError } from './decodeJson.js'

/** First plaintext byte of a compressed unpacked file (snapshot, index, lock) in a v2 repository. */
export const UNPACKED_COMPRESSED_MARKER = 0x02

/**
 * The plaintext of an unpacked file (snapshot, index, lock) before encryption: for repository
 * version 1 the JSON as is; for version 2 `0x02` followed by a zstd frame of the JSON (as restic
 * always writes). Config and key files are never compressed and do not go through here.
 * @param level - zstd level for version 2 (default 3); `undefined` is the default, not "off".
 */
export function encodeUnpacked(json: Uint8Array, version: 1 | 2, level?: number): Uint8Array {
  if (version === 1) return json
  const z = compress(json, level ?? DEFAULT_COMPRESSION_LEVEL)
  const out = new Uint8Array(1 + z.length)
  out[0] = UNPACKED_COMPRESSED_MARKER
  out.set(z, 1)
  return out
}

/**
 * The JSON of an unpacked file's plaintext: plain JSON (first byte `{` or `[`) as is, `0x02` + zstd
 * decompressed. Works for both repository versions.
 * @param what - names the file for errors, e.g. `snapshot 1a2b3c4d`.
 * @throws RusticError `Repository`/`DecodeError` for any other first byte or bad zstd data.
 */
export function decodeUnpacked(plain: Uint8Array, what: string): Uint8Array {
  const first = plain[0]
  if (first === 0x7b || first === 0x5b) return plain
  if (first === UNPACKED_COMPRESSED_MARKER) return decompress(plain.subarray(1), what)
  throw decodeError(
    what,
    plain.length === 0
      ? 'the file is empty'
      : `unknown format (first byte 0x${first!.toString(16).padStart(2, '0')}; expected JSON or 0x02 for zstd)`,
  )
}
