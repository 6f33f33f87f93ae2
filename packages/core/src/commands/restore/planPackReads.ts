import type { Id } from '../../id/Id.js'
import type { PackReads } from './PackReads.js'
import { PlannedBlobs, type PackReadOptions } from './PlannedBlobs.js'
import type { PlannedBlob } from './RestorePlan.js'

export { MAX_READ_BLOBS, type PackReadOptions } from './PlannedBlobs.js'

/**
 * Groups blobs into ranged pack reads (what `planRestore` does with the blobs of a plan): each pack is read
 * at most once (per range), in the order packs are first needed; within a pack blobs are sorted by offset
 * and neighbours closer than `maxReadGap` are merged into one read of at most `maxReadSize` bytes and
 * `MAX_READ_BLOBS` blobs. A blob listed twice is read once, with the targets of both.
 */
export function planPackReads(blobs: Iterable<{ packId: Id; blob: PlannedBlob }>, options: PackReadOptions): PackReads {
  const planned = new PlannedBlobs()
  for (const { packId, blob } of blobs) {
    let b = planned.indexOf(blob.id)
    if (b < 0) b = planned.add(blob.id, { packId, offset: blob.offset, length: blob.length, uncompressedLength: blob.uncompressedLength }, blob.dataLength)
    for (const t of blob.targets) planned.addTarget(b, t.file, t.offset)
  }
  return planned.build(options)
}
