import type { BigIntStats } from 'node:fs'
import { constants } from 'node:fs'
import { lstat, open, readdir, readlink, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import pLimit, { type LimitFunction } from 'p-limit'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import type { ExtendedAttribute, Node } from '../../repofile/Node.js'
import { utf8Lossy } from '../../repofile/goUtf8.js'
import { ExcludePatterns } from '../excludes/ExcludePatterns.js'
import { CACHEDIR_TAG_SPEC, hasExclusionTag, parseExclusionTag, type ExclusionTag } from '../excludes/ExclusionTag.js'
import { oneFileSystemAllows } from '../excludes/oneFileSystem.js'
import { parseSize } from '../../util/size.js'
import { readExcludeFile } from '../excludes/readExcludeFile.js'
import { nodeFromStats, type NodeExtras } from '../nodeFromStats.js'
import type { ContentOpener, ReadSource, ReadSourceEntry, SourceEntriesOptions, SourceSize } from '../ReadSource.js'
import { UserNames } from '../userNames.js'
import { binaryBytes, goAbs, goClean, goDir, goJoin, toBinary } from './goPath.js'
import { LocalSourceOptionsSchema, type LocalSourceOptions } from './LocalSourceOptions.js'
import { readFileHandle } from './readFileHandle.js'
import { StatWorker } from './StatWorker.js'
import { buildTargetTree, resolveTargets, type TargetTree } from './TargetTree.js'

/** How many siblings are prepared (lstat, readlink, ...) ahead of the one being yielded. */
const LOOKAHEAD = 64

/** The exclude rules, ready to apply (exclude files read, tags parsed, source devices known). */
interface Filters {
  excludes: ExcludePatterns
  iexcludes: ExcludePatterns
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
  /** `lstat` with bigint times (on the stat worker when there is one). */
  lstat: (abs: string) => Promise<BigIntStats>
}

/** An item that passed the excludes. */
interface Item {
  /** Absolute path (binary). */
  abs: string
  /** The entry path. */
  path: string
  st: BigIntStats
  isDir: boolean
  /** The entry (not made when only scanning). */
  entry: ReadSourceEntry | undefined
  /** For a directory: its listing, started early (rejections are handled when it is awaited). */
  listing?: Promise<string[]>
}

type Prepared = Item | { skip: true } | { error: unknown; abs: string }

/** A directory being walked. */
interface Frame {
  abs: string
  path: string
  names: string[]
  next: number
  started: number
  pending: Array<Promise<Prepared> | undefined>
  /** Tags found in this directory: everything in it but the tag file is excluded. */
  tags: Array<ExclusionTag & { nameBin: string }>
  /** `st_dev` of this directory. */
  dev: bigint
  /** `st_dev` of the nearest source path containing this directory. */
  allowedDev: bigint | undefined
}

function lossy(bin: string): string {
  return utf8Lossy(binaryBytes(bin))
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
    code: (e as NodeJS.ErrnoException).code ?? 'InputOutput',
    cause: e,
  })
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
 * - excludes as in restic (`--exclude`, `--iexclude`, `--exclude-file`, `--iexclude-file`,
 *   `--exclude-if-present`, `--exclude-caches`, `--exclude-larger-than`, `--one-file-system`);
 * - an item that cannot be read (lstat, readlink, or directory listing fails) is reported to `onError`
 *   and left out with its contents; the walk goes on.
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

  /**
   * Throws `InvalidInput` for an empty path or invalid options (malformed exclude patterns, tag specs
   * or sizes); exclude files are read when the walk starts.
   */
  constructor(paths: readonly string[], options: LocalSourceOptions = {}) {
    for (const p of paths) if (p === '') throw new RusticError('InvalidInput', 'empty backup source path')
    this.paths = [...paths]
    const o = (this.opts = LocalSourceOptionsSchema.parse(options))
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
    for await (const item of this.walk(true, { signal: options.signal })) {
      if (item.st.isFile()) {
        total.files++
        total.bytes += Number(item.st.size)
      }
    }
    return total
  }

  /** The entries to back up, in the order `ReadSource` requires. */
  async *entries(options: SourceEntriesOptions = {}): AsyncIterable<ReadSourceEntry> {
    for await (const item of this.walk(false, options)) yield item.entry!
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
    return {
      excludes: new ExcludePatterns(excludes),
      iexcludes: new ExcludePatterns(iexcludes, { ignoreCase: true }),
      tags: this.tags,
      maxSize: this.maxSize,
      devices,
    }
  }

  private async *walk(scan: boolean, options: SourceEntriesOptions): AsyncGenerator<Item> {
    const w: Walk = {
      filters: await this.filters(),
      scan,
      signal: options.signal,
      onError: scan ? () => {} : (options.onError ?? (() => {})),
      parentTags: new Map(),
      lstat: (abs) => lstat(binaryBytes(abs), { bigint: true }),
    }
    let statWorker: StatWorker | undefined
    try {
      if (this.opts.statInWorker) statWorker = new StatWorker()
      const worker = statWorker
      if (worker) w.lstat = (abs) => worker.lstat(binaryBytes(abs))
    } catch {
      // no worker threads here: stat on this thread
    }
    try {
      yield* this.walkTargets(w)
    } finally {
      await statWorker?.close()
    }
  }

  private async *walkTargets(w: Walk): AsyncGenerator<Item> {
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
  private async *walkTree(w: Walk, tree: TargetTree, path: string): AsyncGenerator<Item> {
    for (const name of [...tree.nodes.keys()].sort()) {
      throwIfAborted(w.signal)
      const sub = tree.nodes.get(name)!
      const parentPath = path === '' && sub.root === '/' ? '/' : path
      const subPath = childPath(parentPath, lossy(name))
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
      yield { abs, path: subPath, st, isDir: true, entry: w.scan ? undefined : { path: subPath, node: await this.makeNode(name, abs, st) } }
      yield* this.walkTree(w, sub, subPath)
    }
  }

  /** A source path (a leaf of the target tree) and, for a directory, everything below it. */
  private async *walkTarget(w: Walk, target: string, name: string, path: string): AsyncGenerator<Item> {
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
    const res = await this.prepare(w, abs, name, path, skipByTag, allowedDev, async () => {
      try {
        return (await lstat(binaryBytes(parent), { bigint: true })).dev
      } catch {
        return undefined
      }
    })
    yield* this.walkFrom(w, res, allowedDev)
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

  /** Yields a prepared item and, for a directory, its contents depth-first (an explicit stack, no recursion). */
  private async *walkFrom(w: Walk, first: Prepared, allowedDev: bigint | undefined): AsyncGenerator<Item> {
    if ('skip' in first) return
    if ('error' in first) {
      w.onError(lossy(first.abs), first.error)
      return
    }
    if (!first.isDir) {
      yield first
      return
    }
    const top = await this.openDir(w, first, allowedDev)
    if (top === undefined) return
    yield first
    const stack: Frame[] = [top]
    while (stack.length > 0) {
      throwIfAborted(w.signal)
      const frame = stack[stack.length - 1]!
      if (frame.next >= frame.names.length) {
        stack.pop()
        continue
      }
      const res = await this.take(w, frame)
      if ('skip' in res) continue
      if ('error' in res) {
        w.onError(lossy(res.abs), res.error)
        continue
      }
      if (res.isDir) {
        const sub = await this.openDir(w, res, frame.allowedDev)
        if (sub === undefined) continue
        yield res
        stack.push(sub)
      } else {
        yield res
      }
    }
  }

  /** Lists a directory for walking; on failure reports it and returns undefined (the directory is left out). */
  private async openDir(w: Walk, item: Item, inheritedDev: bigint | undefined): Promise<Frame | undefined> {
    let names: string[]
    try {
      names = await (item.listing ?? readdirBinary(item.abs))
    } catch (e) {
      w.onError(lossy(item.abs), ioError('cannot read directory', item.abs, e))
      return undefined
    }
    const f = w.filters
    const tags = f.tags.length > 0 ? await this.presentTags(f, item.abs, new Set(names)) : []
    return {
      abs: item.abs,
      path: item.path,
      names,
      next: 0,
      started: 0,
      pending: new Array(names.length),
      tags,
      dev: item.st.dev,
      allowedDev: f.devices?.get(item.abs) ?? inheritedDev,
    }
  }

  /** The next child of `frame`, starting the preparation of the ones after it. */
  private take(w: Walk, frame: Frame): Promise<Prepared> {
    const i = frame.next++
    const end = Math.min(frame.names.length, i + LOOKAHEAD)
    for (; frame.started < end; frame.started++) {
      const name = frame.names[frame.started]!
      const abs = childAbs(frame.abs, name)
      const skipByTag = frame.tags.some((t) => t.nameBin !== name)
      const path = childPath(frame.path, lossy(name))
      frame.pending[frame.started] = this.prepare(w, abs, name, path, skipByTag, frame.allowedDev, () => Promise.resolve(frame.dev))
    }
    const p = frame.pending[i]!
    frame.pending[i] = undefined
    return p
  }

  /** Applies the excludes to one item and makes its entry. Never rejects. */
  private async prepare(
    w: Walk,
    abs: string,
    name: string,
    path: string,
    skipByTag: boolean,
    allowedDev: bigint | undefined,
    parentDev: () => Promise<bigint | undefined>,
  ): Promise<Prepared> {
    const f = w.filters
    if (!f.excludes.isEmpty || !f.iexcludes.isEmpty) {
      const shown = lossy(abs)
      if (f.excludes.matches(shown) || f.iexcludes.matches(shown)) return { skip: true }
    }
    if (skipByTag) return { skip: true }
    let st: BigIntStats
    try {
      st = await this.limit(() => w.lstat(abs))
    } catch (e) {
      return { error: ioError('cannot lstat', abs, e), abs }
    }
    const isDir = st.isDirectory()
    if (allowedDev !== undefined && st.dev !== allowedDev) {
      const pdev = isDir ? await parentDev() : undefined
      if (pdev === undefined || !oneFileSystemAllows(st.dev, isDir, allowedDev, pdev)) return { skip: true }
    }
    if (f.maxSize !== undefined && !isDir && st.size > f.maxSize) return { skip: true }
    if (st.isSocket() && !this.opts.includeSockets) return { skip: true }
    const listing = isDir ? this.limit(() => readdirBinary(abs)) : undefined
    listing?.catch(() => {}) // handled in openDir
    if (w.scan) return { abs, path, st, isDir, entry: undefined, listing }
    try {
      const node = await this.makeNode(name, abs, st)
      const entry: ReadSourceEntry = { path, node }
      if (st.isFile()) {
        entry.open = this.opener(abs)
        entry.localPath = binaryBytes(abs)
      }
      return { abs, path, st, isDir, entry, listing }
    } catch (e) {
      return { error: e instanceof RusticError ? e : ioError('cannot read', abs, e), abs }
    }
  }

  private async makeNode(name: string, abs: string, st: BigIntStats): Promise<Node> {
    const extras: NodeExtras = {}
    const bytes = binaryBytes(abs)
    if (st.isSymbolicLink()) {
      extras.linktarget = await this.limit(() => readlink(bytes, { encoding: 'buffer' }))
    } else if (this.opts.readXattrs && this.opts.xattrReader) {
      const reader = this.opts.xattrReader
      try {
        const xattrs: ExtendedAttribute[] = await this.limit(() => reader(bytes))
        extras.xattrs = xattrs
      } catch (e) {
        this.opts.onWarning?.(`cannot read extended attributes of ${lossy(abs)}: ${errorMessage(e)}`)
      }
    }
    const user = await this.userNames.userName(Number(st.uid))
    const group = await this.userNames.groupName(Number(st.gid))
    if (user !== undefined) extras.user = user
    if (group !== undefined) extras.group = group
    const node = nodeFromStats(binaryBytes(name), st, extras)
    if (!this.opts.withAtime) node.atime = node.mtime
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
