import { z } from 'zod'
import type { DecryptBackend } from '../backend/DecryptBackend.js'
import { throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { BlobType, IndexPack } from '../repofile/index.js'
import { IndexFileText } from '../repofile/IndexFileText.js'
import { parseOptions } from '../util/parseOptions.js'

/** Blobs per index file before it is saved (rustic_core indexer `MAX_COUNT`, restic 0.14 backup: 50,000). */
export const DEFAULT_INDEX_MAX_BLOBS = 50_000
/**
 * Blobs per index file of a backup (`Archiver`): the text of the packs not yet in an index file (~150 bytes a blob)
 * is held until the file is written, and the last file is made at the end, next to the backup's peak: 20,000 blobs
 * keep that at ~3 MB where 50,000 took ~7.5 MB (and its compressed copy). Fewer (10,000) made a file in the middle
 * of a 14,000-blob backup, next to the seal workers' peak (+2-3 MiB there); the files are only more, not larger in all.
 */
export const BACKUP_INDEX_MAX_BLOBS = 20_000
/** Age of the index file being collected after which it is saved (rustic_core indexer `MAX_AGE`: 5 minutes). */
export const DEFAULT_INDEX_MAX_AGE_MS = 5 * 60 * 1000

/** Options of {@link Indexer}, with defaults. */
export const IndexerOptionsSchema = z.object({
  /** Save an index file once it lists this many blobs (default {@link DEFAULT_INDEX_MAX_BLOBS}). */
  maxBlobsPerFile: z.number().int().min(1).default(DEFAULT_INDEX_MAX_BLOBS),
  /** Save an index file once its first pack is this old, checked when a pack is added (default 5 min). */
  maxAgeMs: z.number().min(0).default(DEFAULT_INDEX_MAX_AGE_MS),
  /** Aborts index file writes. */
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal).optional(),
  /** Called with every pack as it is added (e.g. to keep an in-memory index current). */
  onPack: z.custom<(pack: IndexPack) => void>((v) => typeof v === 'function').optional(),
  /**
   * Remember the blob ids of every added pack for {@link Indexer.has} (default true). False when `onPack`
   * puts the packs into the index that the packers check anyway: the ids (~100 bytes a blob) are then not
   * held twice until the run ends.
   */
  keepIds: z.boolean().default(true),
  /** Called with the ids of the packs of each index file once it is stored. */
  onSaved: z.custom<(packIds: readonly Id[]) => void>((v) => typeof v === 'function').optional(),
})

/** Options of {@link Indexer}; see {@link IndexerOptionsSchema} for defaults. */
export type IndexerOptions = z.input<typeof IndexerOptionsSchema>

/**
 * Collects saved packs into index files (rustic_core's `Indexer`). Add a pack only once it is stored:
 * from then on its blobs count as present ({@link Indexer.has}), and an index file is saved whenever
 * the collected packs reach `maxBlobsPerFile` blobs or `maxAgeMs`, so an interrupted run keeps most
 * of its work. A failed index write keeps its packs for the next attempt (a later flush or
 * {@link Indexer.finalize}). Safe for concurrent `add` calls.
 */
export class Indexer {
  /** Ids of the index files written so far. */
  readonly indexFilesWritten: Id[] = []
  private readonly options: z.output<typeof IndexerOptionsSchema>
  private readonly ids: Record<BlobType, Set<Id>> = { data: new Set(), tree: new Set() }
  /**
   * The packs added and not yet in an index file, as the file's text: ~150 bytes a blob outside the JS heap
   * where the packs' objects and id strings took about as much on the heap, with the collector's room on top.
   */
  private text: IndexFileText
  /** Their ids, for `onSaved`. */
  private packIds: Id[] = []
  private count = 0
  private created = Date.now()
  private readonly saving = new Set<Promise<unknown>>()

  constructor(
    /** The encryption layer that index files are written through. */
    readonly dbe: DecryptBackend,
    options: IndexerOptions = {},
  ) {
    this.options = parseOptions(IndexerOptionsSchema, options, 'indexer options')
    this.text = this.newText()
  }

  /**
   * Records a stored pack: its blobs count as present at once; saves an index file when the limits
   * are reached (and rejects if that write fails; the packs then stay queued).
   */
  async add(pack: IndexPack): Promise<void> {
    this.options.onPack?.(pack)
    if (this.options.keepIds) for (const b of pack.blobs) this.ids[b.type].add(b.id)
    if (this.text.isEmpty) this.created = Date.now()
    this.text.addPack(pack)
    if (this.options.onSaved) this.packIds.push(pack.id)
    this.count += pack.blobs.length
    if (this.count >= this.options.maxBlobsPerFile || Date.now() - this.created >= this.options.maxAgeMs) {
      await this.flush()
    }
  }

  /**
   * Records a pack as marked for deletion (rustic's two-phase prune: the index file's `packs_to_delete`,
   * with the caller's `time`). Its blobs do not count as present.
   */
  async addToDelete(pack: IndexPack): Promise<void> {
    if (this.text.isEmpty) this.created = Date.now()
    this.text.addPackToDelete(pack)
    this.count += pack.blobs.length
    if (this.count >= this.options.maxBlobsPerFile || Date.now() - this.created >= this.options.maxAgeMs) {
      await this.flush()
    }
  }

  /** True if a blob is in a pack added so far (whether or not its index file is written yet); always false without `keepIds`. */
  has(type: BlobType, id: Id): boolean {
    return this.ids[type].has(id)
  }

  /** Number of blobs in packs added (or marked for deletion) but not yet written to an index file. */
  get pendingBlobs(): number {
    return this.count
  }

  /** Writes the packs added so far into an index file now (once the writes under way are done). */
  async flushNow(): Promise<void> {
    await Promise.all([...this.saving])
    if (!this.text.isEmpty) await this.flush()
  }

  /**
   * Waits for index writes under way, then writes the remaining packs into a final index file.
   * Returns the ids of all index files written by this indexer.
   */
  async finalize(): Promise<Id[]> {
    await Promise.all([...this.saving])
    if (!this.text.isEmpty) await this.flush()
    return [...this.indexFilesWritten]
  }

  /** Takes the collected packs and writes them as one index file; on failure puts them back. */
  private flush(): Promise<void> {
    const text = this.text
    const packIds = this.packIds
    const count = this.count
    this.text = this.newText()
    this.packIds = []
    this.count = 0
    const done = this.write(text).then(
      (id) => {
        this.indexFilesWritten.push(id)
        this.options.onSaved?.(packIds)
      },
      (e: unknown) => {
        text.append(this.text)
        this.text = text
        this.packIds = packIds.concat(this.packIds)
        this.count += count
        throw e
      },
    )
    const settled = done.catch(() => {})
    this.saving.add(settled)
    void settled.then(() => this.saving.delete(settled))
    return done
  }

  private async write(text: IndexFileText): Promise<Id> {
    throwIfAborted(this.options.signal)
    return this.dbe.saveFile('index', text.bytes(), { signal: this.options.signal })
  }

  /** An empty text with room for a full index file (its pages are touched only as far as it fills). */
  private newText(): IndexFileText {
    return new IndexFileText(Math.min(this.options.maxBlobsPerFile, DEFAULT_INDEX_MAX_BLOBS) * 150 + 4096)
  }
}
