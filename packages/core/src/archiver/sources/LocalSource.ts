import { isUtf8 } from 'node:buffer'
import type { BigIntStats } from 'node:fs'
import { constants } from 'node:fs'
import { lstat, open, readdir, readlink, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import pLimit, { type LimitFunction } from 'p-limit'
import { RusticError, throwIfAborted, toErrorCode } from '../../error/RusticError.js'
import type { ExtendedAttribute, Node } from '../../repofile/Node.js'
import { utf8Lossy } from '../../repofile/goUtf8.js'
import { ExcludePatterns } from '../excludes/ExcludePatterns.js'
import { CACHEDIR_TAG_SPEC, hasExclusionTag, parseExclusionTag, type ExclusionTag } from '../excludes/ExclusionTag.js'
import { oneFileSystemAllows } from '../excludes/oneFileSystem.js'
import { isIgnoredXattrError, nativeXattrs, nativeXattrsUnavailable, type NativeXattrs } from '../../util/nativeXattrs.js'
import { parseSize } from '../../util/size.js'
import { readExcludeFile } from '../excludes/readExcludeFile.js'
import { nodeFromStats, type NodeExtras } from '../nodeFromStats.js'
import type { ContentOpener, ReadSource, ReadSourceEntry, SourceEntriesOptions, SourceSize } from '../ReadSource.js'
import { UserNames } from '../userNames.js'
import {
  acquireDirectoryWorker,
  DirectoryListing,
  releaseDirectoryWorker,
  type DirectoryWorker,
  type EntryStats,
  type XattrProblem,
} from './DirectoryWorker.js'
import { binaryBytes, goAbs, goClean, goDir, goJoin, toBinary } from './goPath.js'
import { LocalSourceOptionsSchema, type LocalSourceOptions, type XattrReader } from './LocalSourceOptions.js'
import { readFileHandle } from './readFileHandle.js'
import { buildTargetTree, resolveTargets, type TargetTree } from './TargetTree.js'
import { parseOptions } from '../../util/parseOptions.js'

/** How many siblings are prepared (excludes, node, listing of subdirectories) ahead of the one being yielded. */
const LOOKAHEAD = 64

/** The exclude rules, ready to apply (exclude files read, tags parsed, source devices known). */
interface Filters {
  excludes: ExcludePatterns
  iexcludes: ExcludePatterns
  /** True if there are exclude patterns (then items' paths are shown to them). */
  patterns: boolean
  tags: Array<ExclusionTag & { nameBin: string }>
  maxSize: bigint | undefined
  /** `st_dev` of each source path (absolute, binary), for `oneFileSystem`. */
  devices: Map<string, bigint> | undefined
}

/** One walk: its options and state. */
interface Walk {
  filters: Filters
  scan: boolean
  signal: AbortSignal | undefined
  onError: (path: string, error: unknown) => void
  /** Tags present in parent directories of top-level targets, by directory. */
  parentTags: Map<string, Promise<Filters['tags']>>
  /** Lists a directory: on the directory worker (with the entries' `lstat`s) when there is one. */
  list: (abs: string) => Promise<DirectoryListing>
  /** Says that a listing is needed now (see `DirectoryWorker.hurry`). */
  hurry: (listing: Promise<DirectoryListing>) => void
  /**
   * Reads an item's extended attributes on this thread, for the items whose listing did not bring
   * them; `undefined` when none are read (`readXattrs` off, a scan, or no xattr support here).
   */
  xattrs: XattrReader | undefined
}

/** An item that passed the excludes. */
interface Item {
  /** Absolute path (binary). */
  abs: string
  /** The absolute path as exclude patterns see it (UTF-8, lossy); only set when there are patterns. */
  shown: string
  /** The entry path. */
  path: string
  st: EntryStats
  isDir: boolean
  /** The entry (not made when only scanning). */
  entry: ReadSourceEntry | undefined
  /** For a directory: its listing, started early. */
  listing?: Listing
}

/** A directory listing under way, and its result once settled. */
interface Listing {
  promise: Promise<DirectoryListing>
  result?: DirectoryListing | { error: unknown }
}

/** Starts listing a directory (rejections are kept in `result`, to be reported when it is walked). */
function startListing(w: Walk, abs: string): Listing {
  const l: Listing = { promise: w.list(abs) }
  l.promise.then(
    (r) => (l.result = r),
    (error: unknown) => (l.result = { error }),
  )
  return l
}

type Prepared = Item | { skip: true } | { error: unknown; abs: string }

const SKIP: Prepared = { skip: true }

/** A directory being walked. */
interface Frame {
  abs: string
  shown: string
  path: string
  listing: DirectoryListing
  names: string[]
  next: number
  started: number
  pending: Array<Prepared | Promise<Prepared> | undefined>
  /** Tags found in this directory: everything in it but the tag file is excluded. */
  tags: Array<ExclusionTag & { nameBin: string }>
  /** `st_dev` of this directory. */
  dev: bigint
  /** `st_dev` of the nearest source path containing this directory. */
  allowedDev: bigint | undefined
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

/** A binary string as UTF-8 text, invalid bytes replaced (as Go converts). */
function lossy(bin: string): string {
  return isAscii(bin) ? bin : utf8Lossy(binaryBytes(bin))
}

/** The entry path of `name` in directory `parent` (`/` for the absolute root, `''` for the relative one). */
function childPath(parent: string, name: string): string {
  if (parent === '') return name
  if (parent === '/') return '/' + name
  return parent + '/' + name
}

function childAbs(dir: string, name: string): string {
  return dir === '/' ? '/' + name : dir + '/' + name
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

function ioError(what: string, abs: string, e: unknown): RusticError {
  return new RusticError('InputOutput', `${what} ${lossy(abs)}: ${errorMessage(e)}`, {
    code: toErrorCode((e as NodeJS.ErrnoException).code, 'InputOutput'),
    cause: e,
  })
}

function failed(e: unknown, abs: string): Prepared {
  return { error: e instanceof RusticError ? e : ioError('cannot read', abs, e), abs }
}

async function readdirBinary(abs: string): Promise<string[]> {
  const names = await readdir(binaryBytes(abs), { encoding: 'buffer' })
  return names.map((n) => n.toString('latin1')).sort()
}

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
  private readonly userNames: UserNames
  private readonly limit: LimitFunction
  private readonly tags: Filters['tags']
  private readonly maxSize: bigint | undefined
  private filtersPromise: Promise<Filters> | undefined
  /** Owner names looked up so far, by uid and gid (`undefined`: no name). */
  private readonly users = new Map<number, string | undefined>()
  private readonly groups = new Map<number, string | undefined>()
  /** Set once the warning that xattrs cannot be read here (no native package) was given. */
  private warnedNoXattrs = false

  /**
   * Throws `InvalidInput` for an empty path or invalid options (malformed exclude patterns, tag specs
   * or sizes); exclude files are read when the walk starts.
   */
  constructor(paths: readonly string[], options: LocalSourceOptions = {}) {
    for (const p of paths) if (p === '') throw new RusticError('InvalidInput', 'empty backup source path')
    this.paths = [...paths]
    const o = (this.opts = parseOptions(LocalSourceOptionsSchema, options, 'local source options'))
    this.cwd = goClean(toBinary(resolve(o.cwd ?? '.')))
    this.userNames = o.userNames ?? new UserNames()
    this.limit = pLimit(o.statConcurrency)
    // fail early on bad patterns (exclude files are read later)
    new ExcludePatterns(o.excludes)
    new ExcludePatterns(o.iexcludes, { ignoreCase: true })
    const specs = [...o.excludeIfPresent, ...(o.excludeCaches ? [CACHEDIR_TAG_SPEC] : [])]
    this.tags = specs.map((s) => {
      const tag = parseExclusionTag(s)
      return { ...tag, nameBin: toBinary(tag.name) }
    })
    const max = o.excludeLargerThan
    this.maxSize = max === undefined ? undefined : BigInt(typeof max === 'number' ? max : parseSize(max))
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

  private filters(): Promise<Filters> {
    return (this.filtersPromise ??= this.makeFilters())
  }

  private async makeFilters(): Promise<Filters> {
    const o = this.opts
    const excludes = [...o.excludes]
    for (const f of o.excludeFiles) excludes.push(...(await readExcludeFile(f)))
    const iexcludes = [...o.iexcludes]
    for (const f of o.iexcludeFiles) iexcludes.push(...(await readExcludeFile(f)))
    let devices: Map<string, bigint> | undefined
    if (o.oneFileSystem) {
      devices = new Map()
      for (const p of this.paths) {
        const abs = goAbs(toBinary(p), this.cwd)
        try {
          devices.set(abs, (await lstat(binaryBytes(abs), { bigint: true })).dev)
        } catch {
          // a missing source is reported when it is walked
        }
      }
    }
    const ex = new ExcludePatterns(excludes)
    const iex = new ExcludePatterns(iexcludes, { ignoreCase: true })
    return {
      excludes: ex,
      iexcludes: iex,
      patterns: !ex.isEmpty || !iex.isEmpty,
      tags: this.tags,
      maxSize: this.maxSize,
      devices,
    }
  }

  /** Lists a directory on this thread: names only (entries are `lstat`ed one by one when prepared). */
  private listHere(abs: string): Promise<DirectoryListing> {
    return this.limit(() => readdirBinary(abs)).then((names) => new DirectoryListing(names))
  }

  /**
   * How a walk reads extended attributes: `reader` on this thread (the user's `xattrReader`, else one
   * on the native package), and whether the directory worker reads them with its listings (only with
   * the native package: a user's reader overrides it). Nothing when `readXattrs` is off; without the
   * native package (no binary for this platform) nothing either, and one warning.
   */
  private xattrSetup(): { reader: XattrReader | undefined; inWorker: boolean } {
    if (!this.opts.readXattrs) return { reader: undefined, inWorker: false }
    if (this.opts.xattrReader) return { reader: this.opts.xattrReader, inWorker: false }
    const native = nativeXattrs()
    if (native === undefined) {
      if (!this.warnedNoXattrs) {
        this.warnedNoXattrs = true
        this.opts.onWarning?.(`extended attributes are not backed up: ${nativeXattrsUnavailable() ?? 'no xattr support'}`)
      }
      return { reader: undefined, inWorker: false }
    }
    return { reader: (path) => this.readNativeXattrs(native, path), inWorker: true }
  }

  /**
   * Reads the extended attributes of `path` (bytes) on the thread pool as restic 0.14's
   * `fillExtendedAttributes` does: names in `llistxattr` order; `ENOTSUP`/`ENOATTR` from the listing
   * mean none (`handleXattrErr`); an attribute whose value cannot be read is left out with a warning
   * (restic prints "can not obtain extended attribute"). Throws if the listing fails otherwise, or if the
   * path is not valid UTF-8 (the package takes text: converting would name another file).
   */
  private async readNativeXattrs(x: NativeXattrs, path: Buffer): Promise<ExtendedAttribute[]> {
    if (!isUtf8(path)) throw new Error('its path is not valid UTF-8')
    const text = path.toString('utf8')
    let names: string[]
    try {
      names = await x.listAttributes(text)
    } catch (e) {
      if (isIgnoredXattrError(e)) return []
      throw e
    }
    const attrs: ExtendedAttribute[] = []
    for (const name of names) {
      const value = await x.getAttribute(text, name)
      // null: an error, or the attribute went away since the listing (restic would store a null value)
      if (value === null) this.warnXattrs(text, [{ attribute: name, message: '' }])
      else attrs.push({ name, value })
    }
    return attrs
  }

  /**
   * Reports problems reading the extended attributes of `shown`. The item is backed up without them:
   * restic 0.14 leaves out an item whose xattrs cannot be listed (`NodeFromFileInfo` fails), rustic keeps
   * it ("ignoring error obtaining xattrs"), as we do: its content matters more than its xattrs.
   */
  private warnXattrs(shown: string, problems: readonly XattrProblem[]): void {
    const warn = this.opts.onWarning
    if (warn === undefined) return
    for (const p of problems) {
      if (p.attribute === undefined) warn(`cannot read extended attributes of ${shown}: ${p.message}`)
      else warn(`cannot read extended attribute ${p.attribute} of ${shown}`)
    }
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
      const xattrs = scan ? { reader: undefined, inWorker: false } : this.xattrSetup()
      const inWorker = xattrs.inWorker
      const w: Walk = {
        filters: await this.filters(),
        scan,
        signal: options.signal,
        onError: scan ? () => {} : (options.onError ?? (() => {})),
        parentTags: new Map(),
        list: dirs ? (abs) => dirs.list(abs, here, inWorker) : here,
        hurry: dirs ? (l) => dirs.hurry(l) : () => {},
        xattrs: xattrs.reader,
      }
      yield* this.walkTargets(w)
    } finally {
      if (worker) releaseDirectoryWorker(worker)
    }
  }

  private async *walkTargets(w: Walk): AsyncGenerator<Item[]> {
    throwIfAborted(w.signal)
    const targets = await resolveTargets(this.paths.map(toBinary), async (dir) => {
      const abs = goAbs(dir, this.cwd)
      try {
        return await readdirBinary(abs)
      } catch (e) {
        w.onError(lossy(abs), ioError('cannot list', abs, e))
        return []
      }
    })
    const tree = buildTargetTree(targets)
    yield* this.walkTree(w, tree, '')
  }

  /** The virtual top of the snapshot: intermediate directories and the targets below them. */
  private async *walkTree(w: Walk, tree: TargetTree, path: string): AsyncGenerator<Item[]> {
    for (const name of [...tree.nodes.keys()].sort()) {
      throwIfAborted(w.signal)
      const sub = tree.nodes.get(name)!
      const parentPath = path === '' && sub.root === '/' ? '/' : path
      const shownName = lossy(name)
      const subPath = childPath(parentPath, shownName)
      if (sub.path !== undefined && sub.nodes.size === 0) {
        yield* this.walkTarget(w, sub.path, name, subPath)
        continue
      }
      if (sub.path !== undefined) {
        // a target holding other targets: merge its listing in (restic's unrollTree)
        const abs = goAbs(sub.path, this.cwd)
        let names: string[]
        try {
          names = await readdirBinary(abs)
        } catch (e) {
          w.onError(lossy(abs), ioError('cannot list', abs, e))
          continue
        }
        for (const n of names) {
          const p = goJoin(sub.path, n)
          const existing = sub.nodes.get(n)
          if (existing === undefined) sub.nodes.set(n, { nodes: new Map(), path: p })
          else if (existing.path === undefined) existing.path = p
        }
        sub.fileInfoPath ??= sub.path
        delete sub.path
      }
      const abs = goAbs(sub.fileInfoPath!, this.cwd)
      let st: BigIntStats
      try {
        st = await stat(binaryBytes(abs), { bigint: true })
        if (!st.isDirectory()) throw new Error('not a directory')
      } catch (e) {
        w.onError(lossy(abs), ioError('cannot stat', abs, e))
        continue
      }
      const entry = w.scan ? undefined : { path: subPath, node: await this.makeNode(w, name, shownName, abs, st, undefined, undefined) }
      yield [{ abs, shown: lossy(abs), path: subPath, st, isDir: true, entry }]
      yield* this.walkTree(w, sub, subPath)
    }
  }

  /** A source path (a leaf of the target tree) and, for a directory, everything below it. */
  private async *walkTarget(w: Walk, target: string, name: string, path: string): AsyncGenerator<Item[]> {
    const abs = goAbs(target, this.cwd)
    const parent = goDir(abs)
    const f = w.filters
    let skipByTag = false
    if (f.tags.length > 0) {
      let tags = w.parentTags.get(parent)
      if (tags === undefined) {
        tags = this.presentTags(f, parent)
        w.parentTags.set(parent, tags)
      }
      const base = abs.slice(abs.lastIndexOf('/') + 1)
      skipByTag = (await tags).some((t) => t.nameBin !== base)
    }
    const allowedDev = this.nearestDevice(f, abs)
    const shown = f.patterns ? lossy(abs) : ''
    let res: Prepared
    if ((f.patterns && (f.excludes.matches(shown) || f.iexcludes.matches(shown))) || skipByTag) {
      res = SKIP
    } else {
      let st: BigIntStats | undefined
      try {
        st = await this.limit(() => lstat(binaryBytes(abs), { bigint: true }))
      } catch (e) {
        res = { error: ioError('cannot lstat', abs, e), abs }
      }
      if (st !== undefined) {
        let parentDev: bigint | undefined
        if (allowedDev !== undefined && st.dev !== allowedDev && st.isDirectory()) {
          try {
            parentDev = (await lstat(binaryBytes(parent), { bigint: true })).dev
          } catch {
            // unknown: not a mount point below the source
          }
        }
        res = await this.admit(w, abs, shown, name, lossy(name), path, st, allowedDev, parentDev, undefined, -1)
      }
    }
    yield* this.walkFrom(w, res!, allowedDev)
  }

  private nearestDevice(f: Filters, abs: string): bigint | undefined {
    if (f.devices === undefined) return undefined
    for (let d = abs; ; d = goDir(d)) {
      const dev = f.devices.get(d)
      if (dev !== undefined) return dev
      if (d === goDir(d)) return undefined
    }
  }

  private async presentTags(f: Filters, dir: string, names?: ReadonlySet<string>): Promise<Filters['tags']> {
    const present: Filters['tags'] = []
    for (const tag of f.tags) {
      if (await hasExclusionTag(binaryBytes(dir), tag, names, this.opts.onWarning)) present.push(tag)
    }
    return present
  }

  /**
   * Yields a prepared item and, for a directory, its contents depth-first (an explicit stack, no
   * recursion), in batches: a batch ends with a directory (its contents are looked at only when the
   * next batch is asked for), before an error is reported and before waiting for anything.
   */
  private async *walkFrom(w: Walk, first: Prepared, allowedDev: bigint | undefined): AsyncGenerator<Item[]> {
    if ('skip' in first) return
    if ('error' in first) {
      w.onError(lossy(first.abs), first.error)
      return
    }
    if (!first.isDir) {
      yield [first]
      return
    }
    const top = await this.openDir(w, first, allowedDev)
    if ('error' in top) {
      w.onError(lossy(first.abs), top.error)
      return
    }
    yield [first]
    const stack: Frame[] = [top]
    let batch: Item[] = []
    /** Hands over the entries collected so far (before waiting, or reporting an error, keeps them in order). */
    const flush = function* (): Generator<Item[]> {
      if (batch.length > 0) yield batch
      batch = []
    }
    while (stack.length > 0) {
      throwIfAborted(w.signal)
      const frame = stack[stack.length - 1]!
      if (frame.next >= frame.names.length) {
        stack.pop()
        continue
      }
      let res = this.take(w, frame)
      if (res instanceof Promise) {
        yield* flush()
        res = await res
      }
      if ('skip' in res) continue
      if ('error' in res) {
        yield* flush()
        w.onError(lossy(res.abs), res.error)
        continue
      }
      if (res.isDir) {
        let sub = this.openDirNow(w, res, frame.allowedDev)
        if (sub === undefined) {
          yield* flush()
          sub = await this.openDir(w, res, frame.allowedDev)
        }
        if ('error' in sub) {
          yield* flush()
          w.onError(lossy(res.abs), sub.error)
          continue
        }
        batch.push(res)
        yield* flush()
        stack.push(sub)
      } else {
        batch.push(res)
        if (batch.length >= 256) yield* flush()
      }
    }
    yield* flush()
  }

  /**
   * Lists a directory for walking, or the error that leaves it out (reading it failed). The directory
   * listing is started when the item is admitted; this waits for it.
   */
  private async openDir(w: Walk, item: Item, inheritedDev: bigint | undefined): Promise<Frame | { error: unknown }> {
    let listing: DirectoryListing
    try {
      const l = item.listing ?? startListing(w, item.abs)
      if (l.result === undefined) w.hurry(l.promise)
      listing = await l.promise
    } catch (e) {
      return { error: ioError('cannot read directory', item.abs, e) }
    }
    const tags = w.filters.tags.length > 0 ? await this.presentTags(w.filters, item.abs, new Set(listing.names)) : []
    return this.frame(w, item, listing, tags, inheritedDev)
  }

  /** {@link LocalSource.openDir} without waiting, if the listing is in and no tags need looking for; else undefined. */
  private openDirNow(w: Walk, item: Item, inheritedDev: bigint | undefined): Frame | { error: unknown } | undefined {
    const settled = item.listing?.result
    if (settled === undefined || w.filters.tags.length > 0) return undefined
    if (settled instanceof DirectoryListing) return this.frame(w, item, settled, [], inheritedDev)
    return { error: ioError('cannot read directory', item.abs, settled.error) }
  }

  private frame(w: Walk, item: Item, listing: DirectoryListing, tags: Filters['tags'], inheritedDev: bigint | undefined): Frame {
    return {
      abs: item.abs,
      shown: item.shown,
      path: item.path,
      listing,
      names: listing.names,
      next: 0,
      started: 0,
      pending: new Array(listing.names.length),
      tags,
      dev: item.st.dev,
      allowedDev: w.filters.devices?.get(item.abs) ?? inheritedDev,
    }
  }

  /** The next child of `frame`, starting the preparation of the ones after it. */
  private take(w: Walk, frame: Frame): Prepared | Promise<Prepared> {
    const i = frame.next++
    const end = Math.min(frame.names.length, i + LOOKAHEAD)
    for (; frame.started < end; frame.started++) frame.pending[frame.started] = this.prepareChild(w, frame, frame.started)
    const p = frame.pending[i]!
    frame.pending[i] = undefined
    return p
  }

  /** Applies the excludes to entry `i` of `frame` and makes its entry. Never throws or rejects. */
  private prepareChild(w: Walk, frame: Frame, i: number): Prepared | Promise<Prepared> {
    const f = w.filters
    const name = frame.names[i]!
    const abs = childAbs(frame.abs, name)
    const ascii = isAscii(name)
    let shown = ''
    if (f.patterns) {
      shown = ascii ? childAbs(frame.shown, name) : lossy(abs)
      if (f.excludes.matches(shown) || f.iexcludes.matches(shown)) return SKIP
    }
    if (frame.tags.length > 0 && frame.tags.some((t) => t.nameBin !== name)) return SKIP
    const shownName = ascii ? name : lossy(name)
    const path = childPath(frame.path, shownName)
    const known = frame.listing.lstat(i)
    if (known === undefined) return this.lstatAndAdmit(w, abs, shown, name, shownName, path, frame.allowedDev, frame.dev)
    if (known instanceof Error) return { error: ioError('cannot lstat', abs, known), abs }
    return this.admit(w, abs, shown, name, shownName, path, known, frame.allowedDev, frame.dev, frame.listing, i)
  }

  /** {@link LocalSource.admit} after an `lstat` on this thread. */
  private async lstatAndAdmit(
    w: Walk,
    abs: string,
    shown: string,
    name: string,
    shownName: string,
    path: string,
    allowedDev: bigint | undefined,
    parentDev: bigint,
  ): Promise<Prepared> {
    let st: EntryStats
    try {
      st = await this.limit(() => lstat(binaryBytes(abs), { bigint: true }))
    } catch (e) {
      return { error: ioError('cannot lstat', abs, e), abs }
    }
    return this.admit(w, abs, shown, name, shownName, path, st, allowedDev, parentDev, undefined, -1)
  }

  /**
   * Applies the excludes that need the `lstat` to an item, starts listing it if it is a directory and
   * makes its entry (synchronously when nothing needs waiting for). Never throws or rejects.
   * @param parentDev - `st_dev` of the parent directory (needed only for a directory on another device).
   * @param from - the listing that brought `st` (with the symlink target and xattrs, if read), as
   *   entry `index`; `undefined` if `st` was read here.
   */
  private admit(
    w: Walk,
    abs: string,
    shown: string,
    name: string,
    shownName: string,
    path: string,
    st: EntryStats,
    allowedDev: bigint | undefined,
    parentDev: bigint | undefined,
    from: DirectoryListing | undefined,
    index: number,
  ): Prepared | Promise<Prepared> {
    const f = w.filters
    const isDir = st.isDirectory()
    if (allowedDev !== undefined) {
      const dev = st.dev
      if (dev !== allowedDev && (parentDev === undefined || !oneFileSystemAllows(dev, isDir, allowedDev, parentDev))) return SKIP
    }
    if (f.maxSize !== undefined && !isDir && st.size > f.maxSize) return SKIP
    if (!this.opts.includeSockets && st.isSocket()) return SKIP
    const listing = isDir ? startListing(w, abs) : undefined
    if (w.scan) return { abs, shown, path, st, isDir, entry: undefined, listing }
    let link: Buffer | Error | undefined
    let xattrs: ExtendedAttribute[] | null | undefined
    if (from !== undefined) {
      link = from.linkTarget(index)
      xattrs = from.xattrs(index)
      const problems = from.xattrProblems(index)
      if (problems !== undefined) this.warnXattrs(lossy(abs), problems)
    }
    let node: Node | Promise<Node>
    try {
      node = this.makeNode(w, name, shownName, abs, st, link, xattrs)
    } catch (e) {
      return failed(e, abs)
    }
    if (node instanceof Promise) {
      return node.then(
        (n) => this.item(abs, shown, path, st, isDir, n, listing),
        (e: unknown) => failed(e, abs),
      )
    }
    return this.item(abs, shown, path, st, isDir, node, listing)
  }

  private item(abs: string, shown: string, path: string, st: EntryStats, isDir: boolean, node: Node, listing: Listing | undefined): Item {
    const entry: ReadSourceEntry = { path, node }
    if (st.isFile()) {
      entry.open = this.opener(abs)
      entry.localPath = isAscii(abs) ? abs : binaryBytes(abs)
    }
    return { abs, shown, path, st, isDir, entry, listing }
  }

  /**
   * The node of an item: synchronously when the symlink target (if any) is known, the xattrs are known
   * (read by the directory worker) or not to be read, and the owner names were looked up before; throws
   * (or rejects) if the symlink cannot be read.
   * @param xattrs - the item's extended attributes if already read (`null`: none), else `undefined`:
   *   they are read here with `w.xattrs` (symlinks have none, as restic 0.14 reads none of them).
   */
  private makeNode(
    w: Walk,
    name: string,
    shownName: string,
    abs: string,
    st: EntryStats,
    link: Buffer | Error | undefined,
    xattrs: ExtendedAttribute[] | null | undefined,
  ): Node | Promise<Node> {
    const isLink = st.isSymbolicLink()
    if (isLink && link instanceof Error) throw link
    const uid = Number(st.uid)
    const gid = Number(st.gid)
    if ((isLink ? link === undefined : xattrs === undefined && w.xattrs !== undefined) || !this.users.has(uid) || !this.groups.has(gid)) {
      return this.makeNodeAsync(w, name, shownName, abs, st, link as Buffer | undefined, xattrs)
    }
    return this.buildNode(name, shownName, st, isLink ? (link as Buffer) : undefined, xattrs ?? undefined)
  }

  private async makeNodeAsync(
    w: Walk,
    name: string,
    shownName: string,
    abs: string,
    st: EntryStats,
    link: Buffer | undefined,
    known: ExtendedAttribute[] | null | undefined,
  ): Promise<Node> {
    const bytes = binaryBytes(abs)
    let xattrs = known ?? undefined
    if (st.isSymbolicLink()) {
      link ??= await this.limit(() => readlink(bytes, { encoding: 'buffer' }))
    } else if (known === undefined && w.xattrs !== undefined) {
      const reader = w.xattrs
      try {
        xattrs = await this.limit(() => reader(bytes))
      } catch (e) {
        this.warnXattrs(lossy(abs), [{ attribute: undefined, message: errorMessage(e) }])
      }
    }
    const uid = Number(st.uid)
    const gid = Number(st.gid)
    if (!this.users.has(uid)) this.users.set(uid, await this.userNames.userName(uid))
    if (!this.groups.has(gid)) this.groups.set(gid, await this.userNames.groupName(gid))
    return this.buildNode(name, shownName, st, st.isSymbolicLink() ? link : undefined, xattrs)
  }

  private buildNode(name: string, shownName: string, st: EntryStats, linktarget: Buffer | undefined, xattrs: ExtendedAttribute[] | undefined): Node {
    const extras: NodeExtras = {}
    if (linktarget !== undefined) extras.linktarget = linktarget
    if (xattrs !== undefined) extras.xattrs = xattrs
    const user = this.users.get(Number(st.uid))
    const group = this.groups.get(Number(st.gid))
    if (user !== undefined) extras.user = user
    if (group !== undefined) extras.group = group
    if (this.opts.withAtime) extras.withAtime = true
    // a name that is valid UTF-8 is its text (no U+FFFD but where it really holds one); else its bytes
    const node = nodeFromStats(shownName.includes('\ufffd') ? binaryBytes(name) : shownName, st as unknown as BigIntStats, extras)
    if (this.opts.ignoreDevid) delete node.deviceId
    return node
  }

  /** Opens a regular file (not following a symlink put there since) and streams it in large chunks. */
  private opener(abs: string): ContentOpener {
    const chunk = this.opts.readChunkSize
    return async () => {
      let fh
      try {
        fh = await open(binaryBytes(abs), constants.O_RDONLY | constants.O_NOFOLLOW)
      } catch (e) {
        throw ioError('cannot open', abs, e)
      }
      let size: number
      try {
        const st = await fh.stat()
        if (!st.isFile()) throw new RusticError('InputOutput', `${lossy(abs)} changed type, refusing to read it`, { code: 'ChangedType' })
        size = st.size
      } catch (e) {
        await fh.close()
        throw e instanceof RusticError ? e : ioError('cannot stat', abs, e)
      }
      return readFileHandle(fh, size, chunk)
    }
  }
}
