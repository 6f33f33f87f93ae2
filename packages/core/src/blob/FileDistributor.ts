import type { RusticError } from '../error/RusticError.js'
import type { ParentChunks } from '../workers/seal.protocol.js'
import type { FileJob, SealWorker, SealWorkers } from './sealWorkers.js'

/** Files sent to a worker in one message at most (a message costs both threads more than a small file does). */
const FILE_BATCH_COUNT = 128
/** A worker is given more files while the files it has to go are expected to be smaller than this. */
const FILE_BYTES_AHEAD = 4 << 20
/**
 * A worker is given more files only while fewer of its answered queries than this wait to come back sealed:
 * a worker seals into a few reused buffers, so a packer that writes slowly holds back reading too.
 */
export const ANSWERS_AHEAD = 4
/**
 * The workers are asked to grow (see {@link FileDistributor}) when more than this is queued for them and not sent.
 * A file's bytes that the worker only hashes (its leading chunks in the parent snapshot, see `ParentChunks`) count
 * an eighth: hashing them costs about that much of cutting, hashing and sealing new ones.
 */
const GROW_AHEAD = 2 * FILE_BYTES_AHEAD

/** A file to store: its path (bytes), the size it was listed with, its job, and its chunks in the parent snapshot. */
interface QueuedFile {
  path: Uint8Array
  expected: number
  job: FileJob
  parent: ParentChunks | undefined
  /** What the file is expected to cost its worker, in bytes to cut and seal (see {@link GROW_AHEAD}). */
  work: number
}

/**
 * Hands the files to store to the seal workers, in order, as messages of up to {@link FILE_BATCH_COUNT}
 * files (paths in one buffer). A worker takes files while it has less than {@link FILE_BYTES_AHEAD} to go,
 * so that a worker that is done early takes the next files instead of both getting an equal share up
 * front, and while fewer than {@link ANSWERS_AHEAD} of its answers wait to come back sealed.
 */
export class FileDistributor {
  private queue: QueuedFile[] = []
  private scheduled = false
  /** The worker looked at first next time: workers with as much to go take turns. */
  private turn = 0
  /** The queued files' {@link QueuedFile.work}. */
  private queuedWork = 0

  /** `grow`: called when more than {@link GROW_AHEAD} is left queued, for the pool to start another worker. */
  constructor(
    private readonly workers: SealWorkers,
    private readonly grow?: () => void,
  ) {}

  /**
   * Queues a file: sent at once when a message is full, else at the end of this turn of the event loop.
   * `parent`: the file's chunks in the parent snapshot (see `ParentChunks`).
   */
  add(path: Uint8Array, expected: number, job: FileJob, parent?: ParentChunks): void {
    let work = expected
    if (parent) {
      let hashed = 0
      for (let i = 0; i < parent.leading; i++) hashed += parent.lengths[i]!
      work = Math.max(0, expected - hashed) + hashed / 8
    }
    this.queuedWork += work
    this.queue.push({ path, expected, job, parent, work })
    if (this.queue.length >= FILE_BATCH_COUNT) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** A file job of `w` is done: its bytes no longer count in the worker's load. */
  done(w: SealWorker, job: FileJob): void {
    w.state.fileBytes -= job.bytes
  }

  /** Fails the files not sent yet. */
  fail(error: RusticError): void {
    this.queuedWork = 0
    for (const f of this.queue.splice(0)) f.job.fail(error)
  }

  /** Sends queued files to the workers that may take more (the next file done or batch stored sends more). */
  flush(): void {
    this.scheduled = false
    const pool = this.workers
    if (pool.closed) return
    while (this.queue.length > 0) {
      const all = pool.workers
      if (all.every((c) => c.dead)) return this.fail(pool.failedError(pool.failure!))
      let w: SealWorker | undefined
      for (let k = 0; k < all.length; k++) {
        const c = all[(this.turn + k) % all.length]!
        if (!c.dead && c.state.slots.outstanding < ANSWERS_AHEAD && (!w || c.state.fileBytes < w.state.fileBytes)) w = c
      }
      if (!w || w.state.fileBytes >= FILE_BYTES_AHEAD) {
        if (this.queuedWork > GROW_AHEAD) this.grow?.()
        return
      }
      this.turn = (w.index + 1) % all.length
      const items: QueuedFile[] = []
      let bytes = 0
      while (this.queue.length > 0 && items.length < FILE_BATCH_COUNT && (items.length === 0 || w.state.fileBytes + bytes < FILE_BYTES_AHEAD)) {
        const item = this.queue.shift()!
        this.queuedWork -= item.work
        items.push(item)
        bytes += item.expected
      }
      const paths = new Uint8Array(items.reduce((n, i) => n + i.path.length, 0))
      const ends: number[] = []
      const ids: number[] = []
      let pos = 0
      for (const i of items) {
        paths.set(i.path, pos)
        pos += i.path.length
        ends.push(pos)
        ids.push(pool.add(w, i.job))
      }
      w.state.fileBytes += bytes
      const parents = items.some((i) => i.parent) ? items.map((i) => i.parent ?? null) : undefined
      pool.post(w, { type: 'files', ids, expected: items.map((i) => i.expected), paths, ends, parents }, [paths.buffer])
    }
  }
}
