import { constants } from 'node:fs'
import { lstat, open } from 'node:fs/promises'
import type { LimitFunction } from 'p-limit'
import { isRusticError, RusticError, throwIfAborted } from '../../error/RusticError.js'
import type { ExtendedAttribute, Node } from '../../repofile/Node.js'
import type { ContentOpener, ReadSourceEntry } from '../ReadSource.js'
import { childAbs, childPath, isAscii, ioError, lossy } from './binaryPaths.js'
import { DirectoryListing, type EntryStats } from './DirectoryListing.js'
import { binaryBytes } from './goPath.js'
import type { BinaryTag, LocalFilters } from './LocalFilters.js'
import type { XattrReader } from './LocalSourceOptions.js'
import type { LocalXattrs } from './LocalXattrs.js'
import type { NodeBuilder, NodeSource } from './NodeBuilder.js'
import { readFileHandle } from './readFileHandle.js'

/** How many siblings are prepared (excludes, node, listing of subdirectories) ahead of the one being yielded. */
const LOOKAHEAD = 64

/** An item that passed the excludes. */
export interface Item {
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

/** An item made ready to yield, or left out (excluded, or it could not be read: reported then). */
export type Prepared = Item | { skip: true } | { error: unknown; abs: string }

/** An excluded item. */
export const SKIP: Prepared = { skip: true }

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
  tags: readonly BinaryTag[]
  /** `st_dev` of this directory. */
  dev: bigint
  /** `st_dev` of the nearest source path containing this directory. */
  allowedDev: bigint | undefined
}

/** An item that passed the excludes on its path, with its `lstat`: what {@link LocalWalk.admit} looks at. */
export interface Candidate extends NodeSource {
  /** Absolute path (binary). */
  abs: string
  /** The absolute path as exclude patterns see it; only set when there are patterns. */
  shown: string
  /** The name (binary) and as text. */
  name: string
  shownName: string
  /** The entry path. */
  path: string
  st: EntryStats
  /** `st_dev` of the nearest source path containing the item (with `oneFileSystem`). */
  allowedDev: bigint | undefined
  /** `st_dev` of the parent directory (needed only for a directory on another device). */
  parentDev: bigint | undefined
  /** The listing that brought `st` (with the symlink target and xattrs, if read); `undefined` if `st` was read here. */
  from: DirectoryListing | undefined
  /** The item's entry in `from`. */
  index: number
}

/** What a {@link LocalWalk} is made of. */
export interface LocalWalkSetup {
  filters: LocalFilters
  /** Only scanning (for the size): no nodes are made, no errors reported. */
  scan: boolean
  signal: AbortSignal | undefined
  onError: (path: string, error: unknown) => void
  /** Lists a directory: on the directory worker (with the entries' `lstat`s) when there is one. */
  list: (abs: string) => Promise<DirectoryListing>
  /** Says that a listing is needed now (see `DirectoryWorker.hurry`). */
  hurry: (listing: Promise<DirectoryListing>) => void
  /** Reads an item's xattrs on this thread, for the items whose listing did not bring them; none: not read. */
  xattrReader: XattrReader | undefined
  xattrs: LocalXattrs
  nodes: NodeBuilder
  /** Bounds the file system calls made on this thread. */
  limit: LimitFunction
  /** Chunk size of file content streams. */
  readChunkSize: number
}

/**
 * One walk of the local file system below the source paths: the depth-first walk of each directory, in
 * batches, with the excludes, nodes and listings of the next siblings prepared ahead (see `LocalSource`).
 * The top of the snapshot (the source paths and their ancestors) is walked by `walkTopLevel`.
 */
export class LocalWalk {
  readonly filters: LocalFilters
  readonly scan: boolean
  readonly signal: AbortSignal | undefined
  readonly onError: (path: string, error: unknown) => void
  readonly limit: LimitFunction
  /** Tags present in parent directories of top-level targets, by directory. */
  readonly parentTags = new Map<string, Promise<BinaryTag[]>>()

  constructor(private readonly setup: LocalWalkSetup) {
    ;({ filters: this.filters, scan: this.scan, signal: this.signal, onError: this.onError, limit: this.limit } = setup)
  }

  /** The node of an item whose symlink target and xattrs, if any, are read here. */
  node(item: NodeSource): Node | Promise<Node> {
    return this.setup.nodes.make(item, undefined, undefined, this.setup.xattrReader)
  }

  /**
   * Yields a prepared item and, for a directory, its contents depth-first (an explicit stack, no
   * recursion), in batches: a batch ends with a directory (its contents are looked at only when the
   * next batch is asked for), before an error is reported and before waiting for anything.
   */
  async *walkFrom(first: Prepared, allowedDev: bigint | undefined): AsyncGenerator<Item[]> {
    if ('skip' in first) return
    if ('error' in first) {
      this.onError(lossy(first.abs), first.error)
      return
    }
    if (!first.isDir) {
      yield [first]
      return
    }
    const top = await this.openDir(first, allowedDev)
    if ('error' in top) {
      this.onError(lossy(first.abs), top.error)
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
      throwIfAborted(this.signal)
      const frame = stack[stack.length - 1]!
      if (frame.next >= frame.names.length) {
        stack.pop()
        continue
      }
      let res = this.take(frame)
      if (res instanceof Promise) {
        yield* flush()
        res = await res
      }
      if ('skip' in res) continue
      if ('error' in res) {
        yield* flush()
        this.onError(lossy(res.abs), res.error)
        continue
      }
      if (res.isDir) {
        let sub = this.openDirNow(res, frame.allowedDev)
        if (sub === undefined) {
          yield* flush()
          sub = await this.openDir(res, frame.allowedDev)
        }
        if ('error' in sub) {
          yield* flush()
          this.onError(lossy(res.abs), sub.error)
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
   * Applies the excludes that need the `lstat` to an item, starts listing it if it is a directory and
   * makes its entry (synchronously when nothing needs waiting for). Never throws or rejects.
   */
  admit(c: Candidate): Prepared | Promise<Prepared> {
    const { abs, st } = c
    const isDir = st.isDirectory()
    if (!this.filters.admits(st, isDir, c.allowedDev, c.parentDev)) return SKIP
    const listing = isDir ? this.startListing(abs) : undefined
    if (this.scan) return { abs, shown: c.shown, path: c.path, st, isDir, entry: undefined, listing }
    let link: Buffer | Error | undefined
    let xattrs: ExtendedAttribute[] | null | undefined
    const from = c.from
    if (from !== undefined) {
      link = from.linkTarget(c.index)
      xattrs = from.xattrs(c.index)
      const problems = from.xattrProblems(c.index)
      if (problems !== undefined) this.setup.xattrs.warn(lossy(abs), problems)
    }
    let node: Node | Promise<Node>
    try {
      node = this.setup.nodes.make(c, link, xattrs, this.setup.xattrReader)
    } catch (e) {
      return failed(e, abs)
    }
    if (node instanceof Promise) {
      return node.then(
        (n) => this.item(c, isDir, n, listing),
        (e: unknown) => failed(e, abs),
      )
    }
    return this.item(c, isDir, node, listing)
  }

  /** Starts listing a directory (rejections are kept in `result`, to be reported when it is walked). */
  private startListing(abs: string): Listing {
    const l: Listing = { promise: this.setup.list(abs) }
    l.promise.then(
      (r) => (l.result = r),
      (error: unknown) => (l.result = { error }),
    )
    return l
  }

  /**
   * Lists a directory for walking, or the error that leaves it out (reading it failed). The directory
   * listing is started when the item is admitted; this waits for it.
   */
  private async openDir(item: Item, inheritedDev: bigint | undefined): Promise<Frame | { error: unknown }> {
    let listing: DirectoryListing
    try {
      const l = item.listing ?? this.startListing(item.abs)
      if (l.result === undefined) this.setup.hurry(l.promise)
      listing = await l.promise
    } catch (e) {
      return { error: ioError('cannot read directory', item.abs, e) }
    }
    const tags = this.filters.tags.length > 0 ? await this.filters.presentTags(item.abs, new Set(listing.names)) : []
    return this.frame(item, listing, tags, inheritedDev)
  }

  /** {@link LocalWalk.openDir} without waiting, if the listing is in and no tags need looking for; else undefined. */
  private openDirNow(item: Item, inheritedDev: bigint | undefined): Frame | { error: unknown } | undefined {
    const settled = item.listing?.result
    if (settled === undefined || this.filters.tags.length > 0) return undefined
    if (settled instanceof DirectoryListing) return this.frame(item, settled, [], inheritedDev)
    return { error: ioError('cannot read directory', item.abs, settled.error) }
  }

  private frame(item: Item, listing: DirectoryListing, tags: readonly BinaryTag[], inheritedDev: bigint | undefined): Frame {
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
      allowedDev: this.filters.devices?.get(item.abs) ?? inheritedDev,
    }
  }

  /** The next child of `frame`, starting the preparation of the ones after it. */
  private take(frame: Frame): Prepared | Promise<Prepared> {
    const i = frame.next++
    const end = Math.min(frame.names.length, i + LOOKAHEAD)
    for (; frame.started < end; frame.started++) frame.pending[frame.started] = this.prepareChild(frame, frame.started)
    const p = frame.pending[i]!
    frame.pending[i] = undefined
    return p
  }

  /** Applies the excludes to entry `i` of `frame` and makes its entry. Never throws or rejects. */
  private prepareChild(frame: Frame, i: number): Prepared | Promise<Prepared> {
    const f = this.filters
    const name = frame.names[i]!
    const abs = childAbs(frame.abs, name)
    const ascii = isAscii(name)
    let shown = ''
    if (f.patterns) {
      shown = ascii ? childAbs(frame.shown, name) : lossy(abs)
      if (f.excluded(shown)) return SKIP
    }
    if (frame.tags.length > 0 && frame.tags.some((t) => t.nameBin !== name)) return SKIP
    const shownName = ascii ? name : lossy(name)
    const path = childPath(frame.path, shownName)
    const known = frame.listing.lstat(i)
    const allowedDev = frame.allowedDev
    if (known === undefined) return this.lstatAndAdmit({ abs, shown, name, shownName, path, allowedDev, parentDev: frame.dev })
    if (known instanceof Error) return { error: ioError('cannot lstat', abs, known), abs }
    return this.admit({ abs, shown, name, shownName, path, st: known, allowedDev, parentDev: frame.dev, from: frame.listing, index: i })
  }

  /** {@link LocalWalk.admit} after an `lstat` on this thread (the listing brought none). */
  async lstatAndAdmit(c: Omit<Candidate, 'st' | 'from' | 'index'>): Promise<Prepared> {
    let st: EntryStats
    try {
      st = await this.limit(() => lstat(binaryBytes(c.abs), { bigint: true }))
    } catch (e) {
      return { error: ioError('cannot lstat', c.abs, e), abs: c.abs }
    }
    return this.admit({ ...c, st, from: undefined, index: -1 })
  }

  private item(c: Candidate, isDir: boolean, node: Node, listing: Listing | undefined): Item {
    const { abs, st } = c
    const entry: ReadSourceEntry = { path: c.path, node }
    if (st.isFile()) {
      entry.open = contentOpener(abs, this.setup.readChunkSize)
      entry.localPath = isAscii(abs) ? abs : binaryBytes(abs)
      if (st.size === 0n && c.from !== undefined) {
        const empty = c.from.emptyFile(c.index)
        if (empty !== undefined) entry.empty = empty
      }
    }
    return { abs, shown: c.shown, path: c.path, st, isDir, entry, listing }
  }
}

/** The failure of an item that could not be read. */
function failed(e: unknown, abs: string): Prepared {
  return { error: isRusticError(e) ? e : ioError('cannot read', abs, e), abs }
}

/** Opens a regular file (not following a symlink put there since) and streams it in chunks of `chunkSize`. */
function contentOpener(abs: string, chunkSize: number): ContentOpener {
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
      throw isRusticError(e) ? e : ioError('cannot stat', abs, e)
    }
    return readFileHandle(fh, size, chunkSize)
  }
}
