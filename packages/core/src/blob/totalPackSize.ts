import { CIPHERTEXT_OVERHEAD } from '../crypto/Key.js'
import type { BlobIndex } from '../index/BlobIndex.js'
import { PACK_ENTRY_SIZE, PACK_ENTRY_SIZE_COMPRESSED, PACK_HEADER_LENGTH_SIZE, type BlobType } from '../repofile/index.js'

/**
 * The total size of the indexed packs holding blobs of `blobType`, computed from the index as rustic_core
 * does (Σ over blobs of stored length + header entry size, plus the sealed header's overhead and
 * length field per pack): the `currentTotalSize` for {@link PackSizer.forType}.
 * A blob indexed in several packs counts once. Reads the index's arrays as they are (no object a blob).
 */
export function totalPackSize(index: BlobIndex, blobType: BlobType): number {
  let total = 0
  let packs = 0
  const seen = new Uint8Array(index.packCount)
  index.forEachStored(blobType, (pack, length, compressed) => {
    total += length + (compressed ? PACK_ENTRY_SIZE_COMPRESSED : PACK_ENTRY_SIZE)
    if (seen[pack] === 0) {
      seen[pack] = 1
      packs++
    }
  })
  return total + packs * (CIPHERTEXT_OVERHEAD + PACK_HEADER_LENGTH_SIZE)
}
