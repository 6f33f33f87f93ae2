/** Pooled buffers are sized in steps of this many bytes, so that one serves reads of similar lengths. */
const STEP = 1 << 20

/**
 * Reusable buffers for the pack reads of a restore, in shared memory (`SharedArrayBuffer`): a worker
 * thread opens the blobs of a range where it was read, and the buffer is read into again once the worker
 * has answered, without transferring it either way. A new buffer for every read was mapped, faulted in
 * (a page fault per 4 KiB read) and unmapped again. At most `limit` bytes of buffers are pooled, lent or
 * free (restore passes `readMemory`, which already bounds the pack data in flight); a read that finds no
 * room gets `undefined` and a buffer of its own.
 */
export class ReadBuffers {
  private readonly free: ArrayBufferLike[] = []
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
    while (this.held + size > this.limit && this.free.length > 0) this.held -= this.free.shift()!.byteLength
    if (this.held + size > this.limit) return undefined
    this.held += size
    return new Uint8Array(new SharedArrayBuffer(size))
  }

  /** Gives back the buffer of a {@link ReadBuffers.take}, once nothing reads or writes it any more. */
  give(buffer: ArrayBufferLike): void {
    this.free.push(buffer)
  }

  /** Drops the free buffers (the garbage collector frees them). */
  clear(): void {
    for (const b of this.free.splice(0)) this.held -= b.byteLength
  }
}
