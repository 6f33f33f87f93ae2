import type { StoredChunks } from '../workers/seal.protocol.js'
import type { BlobSink } from './SealPool.js'

/**
 * Bytes of a worker's second slot: batches of chunks fit in it (a worker fills a batch up to the smaller
 * slot's size), a single chunk larger than that goes to the first slot, which has room for the largest.
 * Its pages are all touched, and so are the first slot's as far as its batches reach: 1 MiB (was 2) took ~3 MiB off
 * a full backup's peak together with the seal worker's 1 MiB reads, at the same CPU time.
 */
const SMALL_SLOT = 1 << 20

/**
 * Where a seal worker puts the sealed chunks of the files it stores: two slots in memory shared with the
 * pool, one with room for the largest chunk and one for batches of at most {@link SMALL_SLOT} bytes (so a
 * worker's large chunks take turns with one slot's memory, not two). A slot is filled again once the sink is
 * done with its blobs, so that sealed data never piles up (nor comes and goes as garbage), and a worker with
 * no free slot that fits waits: a slow sink holds the worker back. Also counts the worker's answers whose
 * claimed chunks have not all come back.
 */
export class SealedSlots {
  /** The shared memory: the slots one after the other. */
  readonly memory: SharedArrayBuffer
  /** Where each slot starts in {@link SealedSlots.memory}. */
  private readonly offsets: number[]
  /** Answers with claimed chunks whose sealed blobs have not all come back yet. */
  outstanding = 0

  /** Slots of these sizes (see {@link SealedSlots.sizesFor}). */
  constructor(readonly sizes: readonly number[]) {
    let at = 0
    this.offsets = sizes.map((n) => ((at += n), at - n))
    this.memory = new SharedArrayBuffer(at)
  }

  /**
   * The slot sizes for chunks of at most `maxChunk` bytes: the first holds one such chunk sealed (compressed
   * to zstd's bound and encrypted), the second at most {@link SMALL_SLOT} bytes of them. Empty without files.
   */
  static sizesFor(maxChunk: number | undefined): number[] {
    if (maxChunk === undefined) return []
    const large = Math.ceil((maxChunk + (maxChunk >> 8) + 128 + 32) / 65536) * 65536
    return [large, Math.min(large, SMALL_SLOT)]
  }

  /**
   * Hands the sealed blobs of `m` (in slot `m.slot`) to `sink`; calls `recycle` once the sink is done with
   * all of them. Returns true if `m` was the last batch of its answer.
   */
  deliver(m: StoredChunks, sink: BlobSink, recycle: () => void): boolean {
    const sealed = new Uint8Array(this.memory, this.offsets[m.slot]!, m.length)
    let left = m.ids.length
    let pos = 0
    m.ids.forEach((id, k) => {
      const n = m.lengths[k]!
      const ul = m.uls[k]!
      let called = false
      const done = (): void => {
        if (!called && --left === 0) recycle()
        called = true
      }
      sink.addClaimed(id, sealed.subarray(pos, pos + n), ul < 0 ? undefined : ul, m.sizes[k]!, done)
      pos += n
    })
    if (m.more) return false
    this.outstanding--
    return true
  }
}
