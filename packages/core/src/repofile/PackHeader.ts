import type { Id } from '../id/Id.js'
import { idFromBytes, idToBytes } from '../id/Id.js'
import { CIPHERTEXT_OVERHEAD } from '../crypto/Key.js'
import { RusticError } from '../error/RusticError.js'
import { decodeError } from './decodeError.js'
import type { BlobType } from './IndexFile.js'

/** A blob as listed in a pack header. */
export interface PackBlob {
  /** Blob type. */
  type: BlobType
  /** Blob id. */
  id: Id
  /** Offset of the sealed blob in the pack (cumulative from 0). */
  offset: number
  /** Stored (sealed, possibly compressed) length. */
  length: number
  /** Uncompressed plaintext length, only for compressed blobs. */
  uncompressedLength?: number
}

/** Size of a plain header entry (type, u32 length, id). */
export const PACK_ENTRY_SIZE = 37
/** Size of a compressed header entry (type, u32 length, u32 uncompressed length, id). */
export const PACK_ENTRY_SIZE_COMPRESSED = 41
/** Size of the trailing little-endian u32 header length. */
export const PACK_HEADER_LENGTH_SIZE = 4
/** Largest encrypted header rustic-ts accepts (restic: 16 MiB). */
export const MAX_PACK_HEADER_SIZE = 16 * 1024 * 1024
/** How many bytes of a pack's tail to read first to get its header in one go for typical packs (as restic). */
export const PACK_TAIL_EAGER_READ = 15 * PACK_ENTRY_SIZE_COMPRESSED + CIPHERTEXT_OVERHEAD + PACK_HEADER_LENGTH_SIZE

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff
}

/** Header entry size of a blob: 41 if compressed (has `uncompressedLength`), else 37. */
export function packHeaderEntrySize(b: { uncompressedLength?: number }): number {
  return b.uncompressedLength ? PACK_ENTRY_SIZE_COMPRESSED : PACK_ENTRY_SIZE
}

/**
 * The plaintext pack header for `blobs` (in pack order): one entry a blob, type 0/1 (data/tree) or
 * 2/3 (compressed data/tree). The caller encrypts it, appends it and then its length as u32 LE.
 */
export function serializePackHeader(blobs: PackBlob[]): Uint8Array {
  let size = 0
  for (const b of blobs) size += packHeaderEntrySize(b)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let pos = 0
  for (const b of blobs) {
    if (!isU32(b.length) || (b.uncompressedLength !== undefined && !isU32(b.uncompressedLength))) {
      throw new RusticError('InvalidInput', `blob ${b.id.slice(0, 8)} is too large for a pack header (lengths are u32)`, {
        code: 'BlobTooLarge',
      })
    }
    const compressed = Boolean(b.uncompressedLength)
    out[pos] = (b.type === 'tree' ? 1 : 0) + (compressed ? 2 : 0)
    view.setUint32(pos + 1, b.length, true)
    pos += 5
    if (compressed) {
      view.setUint32(pos, b.uncompressedLength!, true)
      pos += 4
    }
    out.set(idToBytes(b.id), pos)
    pos += 32
  }
  return out
}

/**
 * Parses a decrypted pack header; offsets are computed cumulatively from 0.
 * @param what - names the pack for errors, e.g. `pack 1a2b3c4d`.
 * @throws RusticError `Repository`/`DecodeError` for an unknown entry type or a truncated entry.
 */
export function parsePackHeader(plain: Uint8Array, what: string): PackBlob[] {
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength)
  const blobs: PackBlob[] = []
  let pos = 0
  let offset = 0
  while (pos < plain.length) {
    const t = plain[pos]!
    if (t > 3) throw decodeError(`header of ${what}`, `unknown blob type ${t} in entry ${blobs.length} (at byte ${pos})`)
    const compressed = t >= 2
    const entrySize = compressed ? PACK_ENTRY_SIZE_COMPRESSED : PACK_ENTRY_SIZE
    if (pos + entrySize > plain.length) {
      throw decodeError(`header of ${what}`, `entry ${blobs.length} is truncated (${plain.length - pos} of ${entrySize} bytes)`)
    }
    const length = view.getUint32(pos + 1, true)
    const blob: PackBlob = { type: t % 2 === 1 ? 'tree' : 'data', id: '' as Id, offset, length }
    let idPos = pos + 5
    if (compressed) {
      blob.uncompressedLength = view.getUint32(idPos, true)
      idPos += 4
    }
    blob.id = idFromBytes(plain.subarray(idPos, idPos + 32))
    blobs.push(blob)
    offset += length
    pos += entrySize
  }
  return blobs
}

/** The size of a pack holding `blobs`: Σ(length + entry size) + 32 (header sealing) + 4 (header length). */
export function packSizeFromBlobs(blobs: PackBlob[]): number {
  let size = PACK_HEADER_LENGTH_SIZE + CIPHERTEXT_OVERHEAD
  for (const b of blobs) size += b.length + packHeaderEntrySize(b)
  return size
}

/**
 * The sealed header's length from a pack's last 4 bytes, checked against the pack size
 * (32 ≤ length ≤ size − 4, ≤ {@link MAX_PACK_HEADER_SIZE}).
 * @param tail - the pack's last bytes (at least 4).
 * @param packSize - the pack's size in bytes.
 * @throws RusticError `Repository`/`DecodeError` naming `what` if the length is impossible.
 */
export function packHeaderLength(tail: Uint8Array, packSize: number, what: string): number {
  if (tail.length < PACK_HEADER_LENGTH_SIZE || packSize < PACK_HEADER_LENGTH_SIZE + CIPHERTEXT_OVERHEAD) {
    throw decodeError(what, `the pack is too small (${packSize} bytes) to hold a header`)
  }
  const len = new DataView(tail.buffer, tail.byteOffset + tail.length - 4, 4).getUint32(0, true)
  if (len < CIPHERTEXT_OVERHEAD || len > packSize - PACK_HEADER_LENGTH_SIZE || len > MAX_PACK_HEADER_SIZE) {
    throw decodeError(what, `invalid header length ${len} for a pack of ${packSize} bytes`)
  }
  return len
}
