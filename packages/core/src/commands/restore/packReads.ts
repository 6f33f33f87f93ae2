import type { Id } from '../../id/Id.js'
import type { PackRead, PlannedBlob } from './RestorePlan.js'

/** Options of {@link planPackReads}. */
export interface PackReadOptions {
  /** Blobs closer than this many bytes share one read. */
  maxReadGap: number
  /** A read covering several blobs is not made longer than this (a single larger blob still gets its own read). */
  maxReadSize: number
}

/**
 * Most blobs in one read: a worker gets a read's blobs and their places in one message, and many tiny files
 * made messages of tens of thousands of objects (a heap of their own in each worker, for each read in flight).
 */
export const MAX_READ_BLOBS = 1024

/**
 * Groups blobs into ranged pack reads: each pack is read at most once (per range), in the order packs are
 * first needed; within a pack blobs are sorted by offset and neighbours closer than `maxReadGap` are merged
 * into one read of at most `maxReadSize` bytes and {@link MAX_READ_BLOBS} blobs.
 */
export function planPackReads(blobs: Iterable<{ packId: Id; blob: PlannedBlob }>, options: PackReadOptions): PackRead[] {
  const byPack = new Map<Id, PlannedBlob[]>()
  for (const { packId, blob } of blobs) {
    let list = byPack.get(packId)
    if (!list) byPack.set(packId, (list = []))
    list.push(blob)
  }
  const reads: PackRead[] = []
  for (const [packId, list] of byPack) {
    list.sort((a, b) => a.offset - b.offset)
    let cur: PackRead | undefined
    for (const blob of list) {
      const end = blob.offset + blob.length
      if (
        cur !== undefined &&
        blob.offset - (cur.offset + cur.length) <= options.maxReadGap &&
        end - cur.offset <= options.maxReadSize &&
        cur.blobs.length < MAX_READ_BLOBS &&
        blob.offset >= cur.offset + cur.length
      ) {
        cur.length = end - cur.offset
        cur.blobs.push(blob)
      } else {
        cur = { packId, offset: blob.offset, length: blob.length, blobs: [blob] }
        reads.push(cur)
      }
    }
  }
  return reads
}
