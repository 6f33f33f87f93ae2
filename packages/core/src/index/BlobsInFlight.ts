import { RusticError, throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { BlobType } from '../repofile/index.js'

/** A writer (one backup) that stores blobs others may be waiting for. */
export interface BlobWriter {
  /** Asks it to store what it holds now (its partly filled packs, the index entries not yet written). */
  hurry(): void
}

/** A blob one writer is storing, as another writer sees it. */
export interface BlobInFlight {
  /** Settles once the blob is in a stored pack named by a stored index file; rejects if its writer failed first. */
  readonly stored: Promise<void>
  /** Its writer. */
  readonly writer: BlobWriter
  /** True once `stored` has settled. */
  readonly settled: boolean
  /** Why its writer failed to store it (once `stored` has rejected). */
  readonly error: unknown
}

interface Entry extends BlobInFlight {
  settled: boolean
  error: unknown
  resolve(): void
  reject(error: unknown): void
}

const key = (type: BlobType, id: Id): string => `${type}:${id}`

/**
 * The blobs being stored by the writers of one in-memory index (concurrent backups on one
 * `IndexedRepository`), so that each new blob is stored once: a writer claims a blob before storing it;
 * another writer meeting it skips storing it and, before it saves a snapshot that uses it, waits until the
 * blob is in a stored pack and a stored index file ({@link BlobsInFlight.waitFor}). A blob counts as in
 * flight from its claim until its index file is stored, or its writer ends.
 */
export class BlobsInFlight {
  private readonly entries = new Map<string, Entry>()
  private readonly byWriter = new Map<BlobWriter, Set<string>>()

  /** The blob if a writer other than `writer` is storing it. */
  elsewhere(type: BlobType, id: Id, writer: BlobWriter): BlobInFlight | undefined {
    const e = this.entries.get(key(type, id))
    return e !== undefined && e.writer !== writer ? e : undefined
  }

  /** `writer` stores the blob from now on (call when no one else does, see {@link elsewhere}). */
  claim(type: BlobType, id: Id, writer: BlobWriter): void {
    const k = key(type, id)
    if (this.entries.has(k)) return
    let resolve!: () => void
    let reject!: (error: unknown) => void
    const stored = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    stored.catch(() => {}) // a writer's failure matters only to those waiting
    const entry: Entry = {
      stored,
      writer,
      settled: false,
      error: undefined,
      resolve: () => {
        entry.settled = true
        resolve()
      },
      reject: (error) => {
        entry.settled = true
        entry.error = error
        reject(error)
      },
    }
    this.entries.set(k, entry)
    let mine = this.byWriter.get(writer)
    if (!mine) this.byWriter.set(writer, (mine = new Set()))
    mine.add(k)
  }

  /** Blobs of `writer` are in a stored index file now: those waiting for them go on. */
  stored(writer: BlobWriter, blobs: Iterable<{ type: BlobType; id: Id }>): void {
    const mine = this.byWriter.get(writer)
    for (const b of blobs) {
      const k = key(b.type, b.id)
      const e = this.entries.get(k)
      if (e === undefined || e.writer !== writer) continue
      this.entries.delete(k)
      mine?.delete(k)
      e.resolve()
    }
  }

  /** `writer` has ended: what it claimed and did not store fails for those waiting for it (with `error`). */
  release(writer: BlobWriter, error?: unknown): void {
    const mine = this.byWriter.get(writer)
    this.byWriter.delete(writer)
    if (!mine) return
    const why = error ?? new RusticError('Internal', 'the backup storing the blob ended without storing it', { code: 'SharedBlobLost' })
    for (const k of mine) {
      const e = this.entries.get(k)
      if (e === undefined) continue
      this.entries.delete(k)
      e.reject(why)
    }
  }

  /**
   * Waits until every blob of `blobs` is stored, asking their writers to hurry (again every second while
   * some are missing: a writer may still be sealing one). Fails with `SharedBlobLost` when a writer ended
   * without storing one: the caller must not save a snapshot that uses it.
   */
  async waitFor(blobs: Iterable<BlobInFlight>, signal?: AbortSignal): Promise<void> {
    let waiting = [...blobs]
    for (;;) {
      const lost = waiting.find((b) => b.error !== undefined)
      if (lost) {
        const why = lost.error instanceof Error ? lost.error.message : String(lost.error)
        throw new RusticError(
          'Repository',
          `another backup of this process that was storing data this backup shares failed (${why}): nothing was saved, run the backup again`,
          { code: 'SharedBlobLost', cause: lost.error },
        )
      }
      waiting = waiting.filter((b) => !b.settled)
      if (waiting.length === 0) return
      throwIfAborted(signal)
      for (const w of new Set(waiting.map((b) => b.writer))) w.hurry()
      let timer: ReturnType<typeof setTimeout> | undefined
      const tick = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))
      await Promise.race([Promise.all(waiting.map((b) => b.stored)).catch(() => {}), tick])
      clearTimeout(timer)
    }
  }
}
