import { CIPHERTEXT_OVERHEAD } from '../../crypto/Key.js'
import type { IndexBlob } from '../../repofile/IndexFile.js'
import { PACK_HEADER_LENGTH_SIZE, packHeaderEntrySize } from '../../repofile/PackHeader.js'
import { byOffset } from './byOffset.js'

/** A range of a pack to read. */
export interface PackRange {
  offset: number
  length: number
}

/** How `check --read-data` reads a pack: its tail first, then the bytes before the tail in pieces. */
export interface PackReadPlan {
  /** Where the tail starts: the header as the index implies it, and the header's length (never less than the last 4 bytes). */
  tailStart: number
  /** The bytes from 0 to `tailStart`, in order, cut between blobs into pieces of about `pieceBytes` (a larger blob is one piece). */
  pieces: PackRange[]
}

/**
 * Plans the reads of a pack of `size` bytes holding `blobs` (its index entries) for a `PackVerifier`: the
 * tail (the header the index implies: its sealed entries and its length) is read first; the bytes before
 * it follow in pieces cut at blob starts, so that every blob lies in one piece and no piece is larger
 * than `pieceBytes` unless one blob is. Memory then stays at a few pieces per pack, whatever the pack's size.
 * A damaged index only makes some blobs or the header span pieces (the verifier gathers them).
 */
export function planPackReads(size: number, blobs: readonly IndexBlob[], pieceBytes: number): PackReadPlan {
  let header = CIPHERTEXT_OVERHEAD
  for (const b of blobs) header += packHeaderEntrySize(b)
  const tailStart = Math.max(0, size - PACK_HEADER_LENGTH_SIZE - header)
  const pieces: PackRange[] = []
  let start = 0
  let maxEnd = 0
  for (const b of byOffset(blobs)) {
    if (b.offset >= tailStart) break
    // cut before this blob if it would make the piece too large and no earlier blob runs past its start
    if (b.offset > start && b.offset >= maxEnd && b.offset + b.length - start > pieceBytes) {
      pieces.push({ offset: start, length: b.offset - start })
      start = b.offset
    }
    maxEnd = Math.max(maxEnd, b.offset + b.length)
  }
  if (tailStart > start) pieces.push({ offset: start, length: tailStart - start })
  return { tailStart, pieces }
}
