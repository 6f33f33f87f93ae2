import { RusticError, throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { BlobType } from '../repofile/index.js'
import type { BlobIndex } from './BlobIndex.js'

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

/**
 * A claimed blob another writer asked for. Its promise is made only when that writer waits for it
 * ({@link Entry.stored}): a promise with its two functions for each of tens of thousands of blobs in
 * flight (small files: all of them until their index file is written) cost ~0.5 KiB each.
 */
class Entry implements BlobInFlight {
  settled = false
  error: unknown = undefined
  private waiting: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined

  constructor(
    readonly writer: BlobWriter,
    readonly type: BlobType,
    readonly id: Id,
    /** The stored pack that holds the blob, once it is stored. */
    public packId?: Id,
  ) {}

  get stored(): Promise<void> {
    if (this.waiting === undefined) {
      if (this.settled && this.error === undefined) return Promise.resolve()
      let resolve!: () => void
      let reject!: (error: unknown) => void
      const promise = new Promise<void>((res, rej) => {
        resolve = res
        reject = rej
      })
      promise.catch(() => {}) // a writer's failure matters only to those waiting
      this.waiting = { promise, resolve, reject }
      if (this.settled) reject(this.error)
    }
    return this.waiting.promise
  }

  resolve(): void {
    this.settled = true
    this.waiting?.resolve()
  }

  reject(error: unknown): void {
    this.settled = true
    this.error = error
    this.waiting?.reject(error)
  }
}

/**
 * The blobs being stored by the writers of one in-memory index (concurrent backups on one
 * `IndexedRepository`), so that each new blob is stored once: a writer claims a blob before storing it;
 * another writer meeting it skips storing it and, before it saves a snapshot that uses it, waits until the
 * blob is in a stored pack and a stored index file ({@link BlobsInFlight.waitFor}). A blob counts as in
 * flight from its claim until its index file is stored, or its writer ends. Once its pack is stored (and in
 * the in-memory index) a blob is held here by its pack, not by its own entry: a backup has up to 20,000 blobs (`BACKUP_INDEX_MAX_BLOBS`)
 * in packs whose index file is not written yet.
 */
export class BlobsInFlight {
  /**
   * By blob type, then id (the id strings the packers already hold): the writer storing the blob, or its
   * {@link Entry} once another writer asked for it. Most blobs are never shared, so a claim costs one map
   * slot and no object of its own, until its pack is stored ({@link BlobsInFlight.packStored}).
   */
  private readonly entries: Record<BlobType, Map<Id, BlobWriter | Entry>> = { data: new Map(), tree: new Map() }
  /** Entries made for blobs other writers asked for, by their writer (to fail them if it ends first). */
  private readonly asked = new Map<BlobWriter, Set<Entry>>()
  /** Writers that claimed blobs and have not ended (see {@link BlobsInFlight.release}). */
  private readonly writers = new Set<BlobWriter>()
  /** Stored packs whose index file is not stored yet, with their writer. */
  private readonly unsaved = new Map<Id, BlobWriter>()
  /** How many of {@link BlobsInFlight.unsaved} each writer has. */
  private readonly unsavedCount = new Map<BlobWriter, number>()

  /** @param index - the in-memory index the writers' stored packs go into (where their blobs are found once stored). */
  constructor(private readonly index?: BlobIndex) {}

  /** The blob if a writer other than `writer` is storing it. */
  elsewhere(type: BlobType, id: Id, writer: BlobWriter): BlobInFlight | undefined {
    const byId = this.entries[type]
    const e = byId.get(id)
    if (e === undefined) return this.inUnsavedPack(type, id, writer)
    if (e instanceof Entry) return e.writer !== writer ? e : undefined
    if (e === writer) return undefined
    return this.ask(new Entry(e, type, id))
  }

  /** The blob if it is in a stored pack of another writer than `writer` whose index file is not stored yet. */
  private inUnsavedPack(type: BlobType, id: Id, writer: BlobWriter): BlobInFlight | undefined {
    const n = this.unsavedCount.size
    if (n === 0 || (n === 1 && this.unsavedCount.has(writer)) || !this.index) return undefined
    const packId = this.index.get(type, id)?.packId
    const theirs = packId === undefined ? undefined : this.unsaved.get(packId)
    return theirs === undefined || theirs === writer ? undefined : this.ask(new Entry(theirs, type, id, packId))
  }

  private ask(entry: Entry): Entry {
    this.entries[entry.type].set(entry.id, entry)
    let theirs = this.asked.get(entry.writer)
    if (!theirs) this.asked.set(entry.writer, (theirs = new Set()))
    theirs.add(entry)
    return entry
  }

  /** `writer` stores the blob from now on (call when no one else does, see {@link elsewhere}). */
  claim(type: BlobType, id: Id, writer: BlobWriter): void {
    const byId = this.entries[type]
    if (byId.has(id)) return
    byId.set(id, writer)
    this.writers.add(writer)
  }

  /**
   * Pack `packId` of `writer` with `blobs` is stored and in the index given to the constructor: its blobs are
   * held by the pack from now on, until {@link BlobsInFlight.stored} names it.
   */
  packStored(writer: BlobWriter, packId: Id, blobs: Iterable<{ type: BlobType; id: Id }>): void {
    for (const b of blobs) {
      const byId = this.entries[b.type]
      const e = byId.get(b.id)
      if (e === writer) byId.delete(b.id)
      else if (e instanceof Entry && e.writer === writer) e.packId = packId
    }
    this.writers.add(writer)
    if (this.unsaved.get(packId) === undefined) {
      this.unsaved.set(packId, writer)
      this.unsavedCount.set(writer, (this.unsavedCount.get(writer) ?? 0) + 1)
    }
  }

  /** Packs of `writer` (see {@link BlobsInFlight.packStored}) are in a stored index file now: those waiting for their blobs go on. */
  stored(writer: BlobWriter, packIds: readonly Id[]): void {
    const saved = new Set<Id>()
    for (const id of packIds) {
      if (this.unsaved.get(id) !== writer) continue
      this.unsaved.delete(id)
      saved.add(id)
    }
    const left = (this.unsavedCount.get(writer) ?? 0) - saved.size
    if (left > 0) this.unsavedCount.set(writer, left)
    else this.unsavedCount.delete(writer)
    const theirs = this.asked.get(writer)
    if (!theirs) return
    for (const e of theirs) {
      if (e.packId === undefined || !saved.has(e.packId)) continue
      this.entries[e.type].delete(e.id)
      theirs.delete(e)
      e.resolve()
    }
  }

  /** `writer` has ended: what it claimed and did not store fails for those waiting for it (with `error`). */
  release(writer: BlobWriter, error?: unknown): void {
    if (!this.writers.delete(writer)) return
    this.asked.delete(writer)
    if (this.unsavedCount.delete(writer)) for (const [id, w] of this.unsaved) if (w === writer) this.unsaved.delete(id)
    const why = error ?? new RusticError('Internal', 'the backup storing the blob ended without storing it', { code: 'SharedBlobLost' })
    for (const byId of Object.values(this.entries)) {
      for (const [id, e] of byId) {
        if (e === writer) byId.delete(id)
        else if (e instanceof Entry && e.writer === writer) {
          byId.delete(id)
          e.reject(why)
        }
      }
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
