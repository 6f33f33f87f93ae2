import type { StoredChunks } from '../workers/seal.protocol.js'
import type { BlobSink } from './SealPool.js'

/** Slots per worker. */
const SLOTS = 2

/**
 * Where a seal worker puts the sealed chunks of the files it stores: {@link SealedSlots.count} slots in
 * memory shared with the pool. A slot is filled again once the sink is done with its blobs, so that sealed
 * data never piles up (nor comes and goes as garbage), and a worker with no free slot waits: a slow sink
 * holds the worker back. Also counts the worker's answers whose claimed chunks have not all come back.
 */
export class SealedSlots {
  /** Slots per worker. */
  static readonly count = SLOTS
  /** The shared memory: {@link SealedSlots.count} slots of {@link SealedSlots.slotSize} bytes. */
  readonly memory: SharedArrayBuffer
  /** Answers with claimed chunks whose sealed blobs have not all come back yet. */
  outstanding = 0

  /** Slots of `slotSize` bytes (see {@link SealedSlots.sizeFor}). */
  constructor(readonly slotSize: number) {
    this.memory = new SharedArrayBuffer(SLOTS * slotSize)
  }

  /** The slot size for chunks of at most `maxChunk` bytes (compressed, zstd's bound, and sealed); 0 without files. */
  static sizeFor(maxChunk: number | undefined): number {
    return maxChunk === undefined ? 0 : Math.ceil((maxChunk + (maxChunk >> 8) + 128 + 32) / 65536) * 65536
  }

  /**
   * Hands the sealed blobs of `m` (in slot `m.slot`) to `sink`; calls `recycle` once the sink is done with
   * all of them. Returns true if `m` was the last batch of its answer.
   */
  deliver(m: StoredChunks, sink: BlobSink, recycle: () => void): boolean {
    const sealed = new Uint8Array(this.memory, m.slot * this.slotSize, m.length)
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
