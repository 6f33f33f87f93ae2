import type { RusticError } from '../error/RusticError.js'
import type { SealedReply } from '../workers/seal.protocol.js'
import type { SealedBlob } from './SealPool.js'

/** Blobs smaller than this are sent to the workers in batches. */
export const BATCH_BLOB_LIMIT = 64 * 1024
/** A batch is sent once it holds this many bytes or blobs (or at the end of the current turn of the event loop). */
const BATCH_BYTES = 1 << 20
const BATCH_COUNT = 512

/** Sends blobs held one after the other in `data` to a worker to be sealed. */
export type SendBlobs = (data: Uint8Array, lengths: number[], done: (m: SealedReply) => void, fail: (e: RusticError) => void) => void

/**
 * Collects small blobs (below {@link BATCH_BLOB_LIMIT}) and sends them to the seal workers as one message
 * per batch: a worker round trip per blob would cost more than sealing it.
 */
export class SealBatcher {
  private batch: Array<{ plain: Uint8Array; resolve: (s: SealedBlob) => void; reject: (e: unknown) => void }> = []
  private bytes = 0
  private scheduled = false

  constructor(private readonly send: SendBlobs) {}

  /** Seals `plain` (copied at once) with the next batch. */
  add(plain: Uint8Array): Promise<SealedBlob> {
    return new Promise<SealedBlob>((resolve, reject) => {
      this.batch.push({ plain: Uint8Array.prototype.slice.call(plain), resolve, reject })
      this.bytes += plain.length
      if (this.bytes >= BATCH_BYTES || this.batch.length >= BATCH_COUNT) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Fails the blobs not sent yet. */
  fail(error: RusticError): void {
    const left = this.batch
    this.batch = []
    this.bytes = 0
    for (const i of left) i.reject(error)
  }

  /** Sends the blobs collected so far as one message. */
  private flush(): void {
    this.scheduled = false
    const items = this.batch
    if (items.length === 0) return
    this.batch = []
    this.bytes = 0
    const data = new Uint8Array(items.reduce((n, i) => n + i.plain.length, 0))
    let off = 0
    for (const i of items) {
      data.set(i.plain, off)
      off += i.plain.length
    }
    const lengths = items.map((i) => i.plain.length)
    this.send(
      data,
      lengths,
      (m) => {
        let pos = 0
        items.forEach((item, k) => {
          const n = m.lengths[k]!
          const ul = m.uls[k]!
          const sealed = m.sealed.subarray(pos, pos + n)
          pos += n
          item.resolve(ul < 0 ? { sealed } : { sealed, uncompressedLength: ul })
        })
      },
      (e) => items.forEach((i) => i.reject(e)),
    )
  }
}
