import { freeBuffer } from '../../workers/freeBuffer.js'

/** Pooled buffers are sized in steps of this many bytes, so that one serves reads of similar lengths. */
const STEP = 1 << 20

/**
 * Reusable buffers for the pack reads of a restore. A new buffer for every read is mapped, faulted in (a
 * page fault per 4 KiB read, and as much system time as the read itself) and unmapped again; these stay
 * mapped from one read to the next. At most `limit` bytes of buffers are pooled, lent or free (restore
 * passes `readMemory`, which already bounds the pack data in flight); a read that finds no room gets
 * `undefined` and a buffer of its own.
 */
export class ReadBuffers {
  private readonly free: ArrayBuffer[] = []
  /** Bytes of the pooled buffers, lent out or free. */
  private held = 0

  /** @param limit - most bytes of buffers pooled. */
  constructor(private readonly limit: number) {}

  /** A whole pooled buffer of at least `length` bytes to read into, or `undefined` when there is no room. */
  take(length: number): Uint8Array | undefined {
    let best = -1
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.byteLength
      if (size >= length && (best < 0 || size < this.free[best]!.byteLength)) best = i
    }
    if (best >= 0) return new Uint8Array(this.free.splice(best, 1)[0]!)
    const size = Math.ceil(Math.max(length, 1) / STEP) * STEP
    // room for a new one: drop free buffers too small for it, the oldest first
    while (this.held + size > this.limit && this.free.length > 0) this.drop(this.free.shift()!)
    if (this.held + size > this.limit) return undefined
    this.held += size
    const buf = Buffer.allocUnsafeSlow(size)
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  /** Gives back a buffer of {@link ReadBuffers.take} (the same memory, possibly as another `ArrayBuffer` after a round trip to a worker). */
  give(buffer: ArrayBuffer): void {
    this.free.push(buffer)
  }

  /** Counts a lent buffer of `size` bytes as gone (it did not come back: transferred and lost, or freed). */
  forget(size: number): void {
    this.held -= size
  }

  /** Frees the free buffers. */
  clear(): void {
    while (this.free.length > 0) this.drop(this.free.pop()!)
  }

  private drop(buffer: ArrayBuffer): void {
    this.held -= buffer.byteLength
    freeBuffer(new Uint8Array(buffer))
  }
}
