import { compress, decompress, zstdBuffers, zstdCompressorUnavailable } from '../compression/Zstd.js'
import { RusticError } from '../error/RusticError.js'
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
  const { buf, length } = encodeUnpackedAt(json, level, 0, 0)
  return buf.subarray(0, length)
}

/**
 * The version 2 plaintext of an unpacked file (see {@link encodeUnpacked}), written at offset `head` of a
 * new buffer that leaves at least `tail` bytes after it (room to encrypt it in place). The buffer is sized
 * to zstd's bound and filled by the compressor itself, so no copy of the frame is made and only the pages
 * the frame reaches are touched (an index file of 50,000 blobs: 7.5 MB of JSON, ~2.5 MB compressed).
 * @returns the buffer and the plaintext's length.
 * @throws RusticError `Unsupported`/`CompressionUnavailable` as `compress` does.
 */
export function encodeUnpackedAt(json: Uint8Array, level: number | undefined, head: number, tail: number): { buf: Uint8Array; length: number } {
  const zstdLevel = level ?? DEFAULT_COMPRESSION_LEVEL
  const z = zstdCompressorUnavailable() === undefined ? zstdBuffers() : undefined
  if (z === undefined) {
    const frame = compress(json, zstdLevel) // throws the error that names the missing compressor
    const buf = new Uint8Array(head + 1 + frame.length + tail)
    buf[head] = UNPACKED_COMPRESSED_MARKER
    buf.set(frame, head + 1)
    return { buf, length: 1 + frame.length }
  }
  const bound = z.compressBound(json.length)
  const out = Buffer.allocUnsafeSlow(head + 1 + bound + tail) // its own allocation: untouched pages stay unmapped
  const buf = new Uint8Array(out.buffer, out.byteOffset, out.length)
  buf[head] = UNPACKED_COMPRESSED_MARKER
  let n: number
  try {
    n = z.compressInto(buf.subarray(head + 1, head + 1 + bound), json, zstdLevel)
  } catch (cause) {
    throw new RusticError('Internal', `zstd compression failed: ${(cause as Error).message}`, { cause })
  }
  return { buf, length: 1 + n }
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
