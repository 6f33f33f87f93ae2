import { decompress } from '../../compression/index.js'
import type { Key } from '../../crypto/Key.js'
import { hashId, shortId, type Id } from '../../id/Id.js'
import {
  PACK_HEADER_LENGTH_SIZE,
  packHeaderLength,
  packSizeFromBlobs,
  parsePackHeader,
  type BlobType,
  type IndexBlob,
  type PackBlob,
} from '../../repofile/index.js'

/** A problem {@link verifyPack} found in a pack. */
export interface PackProblem {
  kind: 'packHashMismatch' | 'packSizeMismatch' | 'packHeaderDamaged' | 'packHeaderMismatch' | 'blobDamaged'
  /** One line (restic's wording where restic has one). */
  message: string
  /** The blob concerned. */
  blob?: { type: BlobType; id: Id }
}

/** What {@link verifyPack} found. */
export interface PackVerification {
  /** The problems, empty for a sound pack. */
  problems: PackProblem[]
  /** Blobs opened and verified. */
  blobsVerified: number
}

/**
 * Verifies one downloaded pack against what the index says it holds, without any I/O (so it can run on a
 * worker thread): the SHA-256 of the bytes is the pack id; the header decrypts and parses, its length is
 * the one the index implies, and its entries are exactly the index's (type, id, offset, lengths); every
 * indexed blob opens (MAC), decompresses to its indexed length and hashes to its id.
 * @param expected - the index's entries for this pack (any order).
 */
export function verifyPack(key: Key, packId: Id, bytes: Uint8Array, expected: readonly IndexBlob[]): PackVerification {
  const problems: PackProblem[] = []
  const what = `pack ${packId}`
  const actual = hashId(bytes)
  if (actual !== packId) {
    problems.push({ kind: 'packHashMismatch', message: `Pack ID does not match, want ${packId}, got ${actual}` })
  }

  const header = readHeader(key, bytes, what, problems)
  if (header) compareHeader(packId, header, expected, problems)

  let blobsVerified = 0
  let beyond = 0
  for (const b of [...expected].sort((x, y) => x.offset - y.offset)) {
    if (b.offset + b.length > bytes.length) {
      beyond++
      continue
    }
    const reason = blobProblem(key, bytes.subarray(b.offset, b.offset + b.length), b)
    if (reason === undefined) blobsVerified++
    else problems.push({ kind: 'blobDamaged', message: `pack ${packId}: blob ${b.id}: ${reason}`, blob: { type: b.type, id: b.id } })
  }
  if (beyond > 0) {
    problems.push({
      kind: 'packSizeMismatch',
      message: `pack ${packId}: ${beyond} indexed blobs lie beyond its end (it has ${bytes.length} bytes, the index implies ${packSizeFromBlobs([...expected])})`,
    })
  }
  return { problems, blobsVerified }
}

/** The header's entries and stored length, or undefined (after recording why) if it cannot be read. */
function readHeader(key: Key, bytes: Uint8Array, what: string, problems: PackProblem[]): { blobs: PackBlob[]; length: number } | undefined {
  try {
    const length = packHeaderLength(bytes.subarray(Math.max(0, bytes.length - PACK_HEADER_LENGTH_SIZE)), bytes.length, what)
    const end = bytes.length - PACK_HEADER_LENGTH_SIZE
    const plain = key.decrypt(bytes.subarray(end - length, end), `header of ${what}`)
    return { blobs: parsePackHeader(plain, what), length }
  } catch (e) {
    problems.push({ kind: 'packHeaderDamaged', message: `${what}: the pack header cannot be read: ${(e as Error).message}` })
    return undefined
  }
}

function entryKey(b: { type: BlobType; id: Id; offset: number; length: number; uncompressedLength?: number }): string {
  return `${b.type}/${b.id}/${b.offset}/${b.length}/${b.uncompressedLength ?? 0}`
}

function compareHeader(packId: Id, header: { blobs: PackBlob[]; length: number }, expected: readonly IndexBlob[], problems: PackProblem[]): void {
  let indexBlobsLength = 0
  for (const b of expected) indexBlobsLength += b.length
  const want = packSizeFromBlobs([...expected]) - indexBlobsLength - PACK_HEADER_LENGTH_SIZE
  if (want !== header.length) {
    problems.push({
      kind: 'packHeaderMismatch',
      message: `pack ${packId}: Pack header size does not match, want ${want}, got ${header.length}`,
    })
  }
  const indexed = new Set(expected.map(entryKey))
  const inHeader = new Set<string>()
  for (const b of header.blobs) {
    const k = entryKey(b)
    inHeader.add(k)
    if (!indexed.has(k)) {
      problems.push({
        kind: 'packHeaderMismatch',
        message: `pack ${packId}: Blob ${b.id} is not contained in index or position is incorrect`,
        blob: { type: b.type, id: b.id },
      })
    }
  }
  for (const b of expected) {
    if (!inHeader.has(entryKey(b))) {
      problems.push({
        kind: 'packHeaderMismatch',
        message: `pack ${packId}: the index lists blob ${b.id} at offset ${b.offset}, which the pack header does not`,
        blob: { type: b.type, id: b.id },
      })
    }
  }
}

/** Why an indexed blob (its sealed bytes) is damaged, or undefined if it is sound. */
function blobProblem(key: Key, sealed: Uint8Array, b: IndexBlob): string | undefined {
  try {
    const where = `blob ${shortId(b.id)}`
    const opened = key.decrypt(sealed, where)
    const plain = b.uncompressedLength ? decompress(opened, where, b.uncompressedLength) : opened
    if (b.uncompressedLength && plain.length !== b.uncompressedLength) {
      return `decompressed to ${plain.length} bytes instead of ${b.uncompressedLength}`
    }
    const got = hashId(plain)
    if (got !== b.id) return `its content hashes to ${got}`
    return undefined
  } catch (e) {
    return (e as Error).message
  }
}
