import { resolve } from 'node:path'
import pLimit, { type LimitFunction } from 'p-limit'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import type { ReadSource, ReadSourceEntry, SourceEntriesOptions, SourceSize } from '../ReadSource.js'
import { UserNames } from '../userNames.js'
import { lossy, readdirBinary } from './binaryPaths.js'
import { DirectoryListing } from './DirectoryListing.js'
import { acquireDirectoryWorker, releaseDirectoryWorker, type DirectoryWorker } from './DirectoryWorker.js'
import { goAbs, goClean, toBinary } from './goPath.js'
import { LocalFilters, type FilterSpec } from './LocalFilters.js'
import { LocalSourceOptionsSchema, type LocalSourceOptions } from './LocalSourceOptions.js'
import { LocalWalk, type Item } from './LocalWalk.js'
import { LocalXattrs } from './LocalXattrs.js'
import { NodeBuilder } from './NodeBuilder.js'
import { walkTopLevel } from './walkTopLevel.js'
import { parseOptions } from '../../util/parseOptions.js'

/**
 * The local file system as a backup source, walked as restic 0.14 does it (so that the snapshot trees
 * come out byte-identical):
 * - an absolute source path `/a/b/src` is stored with its ancestors `/a`, `/a/b` (metadata from `stat`),
 *   then `/a/b/src` and its contents; a relative one `src` (or `../x/src`) as `src/...`; `.` (or `..`, `/`)
 *   as its entries; sources sharing ancestors share them; a name used by sources from different roots
 *   (e.g. `/tmp` and `tmp`) gets a suffix `-1`;
 * - entries come depth-first, each directory before its contents, siblings in the byte order of their
 *   names (names that are not valid UTF-8 are kept exactly in `node.nameRaw`);
 * - nodes carry `lstat` metadata with owner names; atime = mtime unless `withAtime`; sockets are skipped
 *   (restic 0.14) unless `includeSockets`; fifos and devices have no content;
 * - extended attributes of everything but symlinks, as restic 0.14 stores them (`llistxattr` order, empty
 *   values kept, `ENOTSUP`/`ENOATTR` meaning none), read with the native `@napi-rs/xattr` package (or
 *   `xattrReader`); an item whose xattrs cannot be read is backed up without them, with a warning;
 * - excludes as in restic (`--exclude`, `--iexclude`, `--exclude-file`, `--iexclude-file`,
 *   `--exclude-if-present`, `--exclude-caches`, `--exclude-larger-than`, `--one-file-system`);
 * - an item that cannot be read (lstat, readlink, or directory listing fails) is reported to `onError`
 *   and left out with its contents; the walk goes on.
 *
 * Directories are read on a worker thread (`statInWorker`, see `DirectoryWorker`): one round trip lists
 * a directory and `lstat`s its entries (and reads their xattrs), and the listings of the next
 * subdirectories are asked for while the walk is busy with their elder siblings.
 */
export class LocalSource implements ReadSource {
  /** The source paths, as given. */
  readonly paths: readonly string[]
  private readonly opts: ReturnType<typeof LocalSourceOptionsSchema.parse>
  private readonly cwd: string
  private readonly limit: LimitFunction
  private readonly filterSpec: FilterSpec
  private filtersPromise: Promise<LocalFilters> | undefined
  private readonly xattrs: LocalXattrs
  private readonly nodes: NodeBuilder

  /**
   * Throws `InvalidInput` for an empty path or invalid options (malformed exclude patterns, tag specs
   * or sizes); exclude files are read when the walk starts.
   */
  constructor(paths: readonly string[], options: LocalSourceOptions = {}) {
    for (const p of paths) if (p === '') throw new RusticError('InvalidInput', 'empty backup source path')
    this.paths = [...paths]
    const o = (this.opts = parseOptions(LocalSourceOptionsSchema, options, 'local source options'))
    this.cwd = goClean(toBinary(resolve(o.cwd ?? '.')))
    this.limit = pLimit(o.statConcurrency)
    // fail early on bad patterns (exclude files are read later)
    this.filterSpec = LocalFilters.check(o)
    this.xattrs = new LocalXattrs(o)
    this.nodes = new NodeBuilder({ userNames: o.userNames ?? new UserNames(), withAtime: o.withAtime, ignoreDevid: o.ignoreDevid }, this.limit, this.xattrs)
  }

  /** The absolute source paths as restic records them in the snapshot's `paths` (in the given order). */
  snapshotPaths(): string[] {
    return this.paths.map((p) => lossy(goAbs(toBinary(p), this.cwd)))
  }

  /** The exclude patterns recorded in the snapshot's `excludes` (restic records `--exclude` only). */
  snapshotExcludes(): string[] {
    return [...this.opts.excludes]
  }

  /** Counts the files and their bytes, honouring the excludes (a quick walk without reading content). */
  async size(options: { signal?: AbortSignal } = {}): Promise<SourceSize> {
    const total: SourceSize = { files: 0, bytes: 0 }
    for await (const batch of this.walk(true, { signal: options.signal })) {
      for (const item of batch) {
        if (item.st.isFile()) {
          total.files++
          total.bytes += Number(item.st.size)
        }
      }
    }
    return total
  }

  /** The entries to back up, in the order `ReadSource` requires. */
  async *entries(options: SourceEntriesOptions = {}): AsyncIterable<ReadSourceEntry> {
    const { signal } = options
    for await (const batch of this.walk(false, options)) {
      for (const item of batch) {
        throwIfAborted(signal)
        yield item.entry!
      }
    }
  }

  /** The entries of {@link LocalSource.entries}, in the walk's batches (a directory's entries, up to 256 at a time). */
  async *entryBatches(options: SourceEntriesOptions = {}): AsyncIterable<readonly ReadSourceEntry[]> {
    for await (const batch of this.walk(false, options)) {
      throwIfAborted(options.signal)
      yield batch.map((item) => item.entry!)
    }
  }

  private filters(): Promise<LocalFilters> {
    return (this.filtersPromise ??= LocalFilters.load(this.opts, this.filterSpec, this.paths, this.cwd))
  }

  /** Lists a directory on this thread: names only (entries are `lstat`ed one by one when prepared). */
  private listHere(abs: string): Promise<DirectoryListing> {
    return this.limit(() => readdirBinary(abs)).then((names) => new DirectoryListing(names))
  }

  private async *walk(scan: boolean, options: SourceEntriesOptions): AsyncGenerator<Item[]> {
    let worker: DirectoryWorker | undefined
    try {
      if (this.opts.statInWorker) worker = acquireDirectoryWorker()
    } catch {
      // no worker threads here: list on this thread
    }
    try {
      const dirs = worker
      const here = (abs: string): Promise<DirectoryListing> => this.listHere(abs)
      const xattrs = scan ? { reader: undefined, inWorker: false } : this.xattrs.setup()
      const inWorker = xattrs.inWorker
      const checkEmpty = !scan && options.checkEmptyFiles === true
      const walk = new LocalWalk({
        filters: await this.filters(),
        scan,
        signal: options.signal,
        onError: scan ? () => {} : (options.onError ?? (() => {})),
        list: dirs ? (abs) => dirs.list(abs, here, inWorker, checkEmpty) : here,
        hurry: dirs ? (l) => dirs.hurry(l) : () => {},
        xattrReader: xattrs.reader,
        xattrs: this.xattrs,
        nodes: this.nodes,
        limit: this.limit,
        readChunkSize: this.opts.readChunkSize,
      })
      yield* walkTopLevel(walk, this.paths, this.cwd)
    } finally {
      if (worker) releaseDirectoryWorker(worker)
    }
  }
}
