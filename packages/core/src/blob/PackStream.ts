import { createHash } from 'node:crypto'
import type { FileWriter } from '../backend/Backend.js'
import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'

/**
 * A pack written to the backend as it fills (`WriteBackend.openFileWriter`) instead of held in memory, and
 * hashed on the way. Sealed blobs that lie next to each other in memory (a batch from a seal worker) go out
 * in one write, queued after the blobs added in the same turn; writes run one after the other.
 */
export class PackStream {
  /** The writes so far, in order. */
  private chain: Promise<void> = Promise.resolve()
  private readonly hash = createHash('sha256')
  /** Blobs not yet queued for writing that lie next to each other in memory. */
  private pending: Uint8Array | undefined
  /** To call once the pending bytes are written. */
  private pendingDone: Array<() => void> = []

  /**
   * @param writer - the file writer the backend opened (`undefined`: it offers none; writing fails).
   * @param written - called with the number of bytes of each write once it is done or has failed.
   */
  constructor(
    private readonly writer: Promise<FileWriter | undefined>,
    private readonly written: (bytes: number) => void,
  ) {}

  /** Queues a sealed blob's bytes for the file and hashes them; `done` is called once they are written (or failed). */
  add(sealed: Uint8Array, done: (() => void) | undefined): void {
    this.hash.update(sealed)
    const p = this.pending
    if (p && p.buffer === sealed.buffer && p.byteOffset + p.length === sealed.byteOffset) {
      this.pending = new Uint8Array(p.buffer, p.byteOffset, p.length + sealed.length)
    } else {
      if (p) this.queueWrite()
      this.pending = sealed
      queueMicrotask(() => this.queueWrite()) // after the blobs added in this turn
    }
    if (done) this.pendingDone.push(done)
  }

  /** Writes `tail` (the pack's header and its length) after the blobs and stores the file under the hash of all its bytes. */
  async finish(tail: Uint8Array): Promise<Id> {
    this.hash.update(tail)
    const id = this.hash.digest('hex') as Id
    this.queueWrite()
    try {
      await this.chain
      const w = (await this.writer)!
      await w.write(tail)
      await w.commit(id)
    } catch (e) {
      await this.abort()
      throw e
    }
    return id
  }

  /** Drops the unfinished file. */
  async abort(): Promise<void> {
    await (await this.writer.catch(() => undefined))?.abort().catch(() => {})
  }

  /** Queues the pending bytes for writing. */
  private queueWrite(): void {
    const data = this.pending
    if (!data) return
    const done = this.pendingDone
    this.pending = undefined
    this.pendingDone = []
    // the blobs' buffers are given back even when an earlier write failed (the seal workers wait for them)
    const release = (): void => {
      for (const f of done) f()
      this.written(data.length)
    }
    this.chain = this.chain.then(
      async () => {
        try {
          const w = await this.writer
          if (!w) throw new RusticError('Internal', 'the backend offered no file writer for a pack')
          await w.write(data)
        } finally {
          release()
        }
      },
      (error: unknown) => {
        release()
        throw error
      },
    )
    this.chain.catch(() => {}) // awaited by finish; a failure ends the backup there
  }
}
