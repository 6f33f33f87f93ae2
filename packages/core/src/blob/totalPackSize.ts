import { CIPHERTEXT_OVERHEAD } from '../crypto/Key.js'
import type { BlobIndex } from '../index/BlobIndex.js'
import { PACK_HEADER_LENGTH_SIZE, packHeaderEntrySize, type BlobType } from '../repofile/index.js'

/**
 * The total size of the indexed packs holding blobs of `blobType`, computed from the index as rustic_core
 * does (Σ over blobs of stored length + header entry size, plus the sealed header's overhead and
 * length field per pack): the `currentTotalSize` for {@link PackSizer.forType}.
 * A blob indexed in several packs counts once.
 */
export function totalPackSize(index: BlobIndex, blobType: BlobType): number {
  let total = 0
  const packs = new Set<string>()
  for (const loc of index.locations(blobType)) {
    total += loc.length + packHeaderEntrySize(loc)
    packs.add(loc.packId)
  }
  return total + packs.size * (CIPHERTEXT_OVERHEAD + PACK_HEADER_LENGTH_SIZE)
}
