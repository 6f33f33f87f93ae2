import type { Node } from '../repofile/index.js'

/** Opens an entry's content as a stream of byte chunks (any sizes). */
export type ContentOpener = () => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>

/** One entry of a backup source (rustic_core's `ReadSourceEntry`). */
export interface ReadSourceEntry {
  /**
   * The entry's path inside the snapshot, `/`-separated, without a trailing slash, e.g. `/home/me/a.txt`
   * (absolute) or `src/a.txt` (relative). Its last component is `node.name`.
   */
  path: string
  /** The entry's metadata. The archiver completes this object: `content` (and `size` as read) of files, `subtree` of directories. */
  node: Node
  /** For files: opens the content. Called at most once, possibly much later than the entry was yielded. */
  open?: ContentOpener
  /**
   * For files on the local file system: their path. Lets the archiver read small files on a worker
   * thread instead of through `open` (it still uses `open` for large files and when in doubt).
   */
  localPath?: string | Uint8Array
  /**
   * For a local file listed with size 0, when the walk was asked to check such files
   * ({@link SourceEntriesOptions.checkEmptyFiles}): true if it was still an empty regular file when checked
   * (opened without following a symlink, `fstat`ed and read), so there is nothing to read; false if not (it
   * is then read the usual way). Undefined: not checked.
   */
  empty?: boolean
}

/** Totals of a source, for progress bars. */
export interface SourceSize {
  files: number
  bytes: number
}

/** Options passed to {@link ReadSource.entries}. */
export interface SourceEntriesOptions {
  signal?: AbortSignal
  /** Called for an entry that cannot be read (it is then left out); the backup lists it as skipped. */
  onError?: (path: string, error: unknown) => void
  /**
   * Check each local file listed with size 0 while listing its directory, on the thread that lists it, and
   * say so in {@link ReadSourceEntry.empty}. The archiver asks for it when it has no parent snapshot (whose
   * nodes would let it reuse an unchanged empty file's content without opening the file); a source may ignore it.
   */
  checkEmptyFiles?: boolean
}

/**
 * A backup source (rustic_core's `ReadSource`): a size estimate and the entries to back up.
 *
 * Entries must come depth-first with every directory before its contents and siblings in ascending
 * order of their names' bytes; parent directories of nested entries must be yielded before them
 * (e.g. `/home`, `/home/me`, then `/home/me/a.txt`). Implement it to back up from anything:
 * a tar stream, an object store, a database dump.
 */
export interface ReadSource {
  /** Totals for progress, or undefined if unknown. May be slow (a scan); the archiver runs it alongside. */
  size(options?: { signal?: AbortSignal }): Promise<SourceSize | undefined>
  /** The entries to back up. */
  entries(options?: SourceEntriesOptions): AsyncIterable<ReadSourceEntry>
  /**
   * Optional: the same entries as {@link ReadSource.entries}, in the same order, a batch at a time (a source
   * that walks in batches hands them over without one promise per entry). The archiver uses it when present.
   */
  entryBatches?(options?: SourceEntriesOptions): AsyncIterable<readonly ReadSourceEntry[]>
  /** The paths a snapshot of this source records (a backup's `snapshotPaths` option overrides them). */
  snapshotPaths?(): string[]
}
