import { compressWithRoom, decompress } from '../compression/Zstd.js'
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
  return encodeUnpackedWithRoom(json, version, level, 0, 0)
}

/**
 * {@link encodeUnpacked}'s bytes at offset `before` of a new buffer with `after` bytes of room behind them, so that
 * a caller can seal them in place (`Key.encryptInto`): the zstd frame is written straight into that buffer, with no
 * copy of it (an index file of 50,000 blobs compresses to ~2 MiB). Returns the whole buffer.
 */
export function encodeUnpackedWithRoom(json: Uint8Array, version: 1 | 2, level: number | undefined, before: number, after: number): Uint8Array {
  if (version === 1) {
    const out = new Uint8Array(before + json.length + after)
    out.set(json, before)
    return out
  }
  const { buf } = compressWithRoom(json, level ?? DEFAULT_COMPRESSION_LEVEL, before + 1, after)
  buf[before] = UNPACKED_COMPRESSED_MARKER
  return buf
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
