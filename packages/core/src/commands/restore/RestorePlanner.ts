import type { BigIntStats, Dirent } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import pLimit, { type LimitFunction } from 'p-limit'
import { throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { ResolvedControl } from '../../progress/Control.js'
import type { Progress } from '../../progress/Progress.js'
import { nodeLinktargetBytes, nodeNameBytes, parseTree, type Node } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { pathFilter } from '../globFilter.js'
import { checkNodeName, joinFsName, joinFsPath, type FsPath } from './fsPath.js'
import { matchExisting } from './matchExisting.js'
import { nodeTimeNs, sameTime } from './nodeTimes.js'
import type { ResolvedRestoreOptions } from './RestoreOptions.js'
import { PlanEntries } from './PlanEntries.js'
import { PlannedBlobs } from './PlannedBlobs.js'
import { PlannedFiles } from './PlannedFiles.js'
import type { PlanAction, PlanRemoval, RestorePlan, RestorePlanStats } from './RestorePlan.js'
import { restoreIoError } from './restoreIoError.js'
import { blobDataLength } from '../../blob/blobDataLength.js'

/** Tree reads in flight while planning. */
const TREE_READS = 16
/** Most trees read ahead of the walk and held (the walk takes each one as it gets there, and drops it when done). */
const TREES_AHEAD = 64

/** A file's content as the index describes it. */
interface Content {
  ids: Id[]
  lengths: number[]
  size: number
}

/** A file entry whose existing content is compared blob by blob after the walk. */
interface Check {
  entry: number
  fsPath: FsPath
  content: Content
  existingSize: number
}

/** Path and on-disk path of an entry that is not at its parent's path + its name. */
type EntryAt = { path: string; fsPath: FsPath }

const ignore = (): void => {}

const isNotFound = (e: unknown): boolean => (e as NodeJS.ErrnoException)?.code === 'ENOENT'

/** `lstat` of `p`, `undefined` if nothing is there. */
export async function lstatIfAny(p: FsPath): Promise<BigIntStats | undefined> {
  return lstat(p, { bigint: true }).catch((e: unknown) => {
    if (isNotFound(e)) return undefined
    throw restoreIoError(e, 'stat', p)
  })
}

/**
 * Works out a restore plan (see `planRestore`): walks the snapshot's trees below the restored node next to
 * what the target holds, one entry at a time ({@link RestorePlanner.planDir}, {@link RestorePlanner.planLeaf}),
 * then compares the changed files blob by blob and lists the blobs to read and where they go
 * ({@link RestorePlanner.finish}).
 */
export class RestorePlanner {
  private readonly entries: PlanEntries
  private readonly removals: PlanRemoval[] = []
  private readonly checks: Check[] = []
  /** First entry of each hard-linked inode (`dev:ino` of the snapshot), and the inode there on disk if kept. */
  private readonly hardlinks = new Map<string, { entry: number; existing?: { ino: bigint; dev: bigint } }>()
  private additionalKept = 0
  /** The files to write so far, and the blobs they need (each once, with every place it goes). */
  private readonly files = new PlannedFiles()
  private blobs = new PlannedBlobs()
  private bytesToWrite = 0
  private bytesMatched = 0
  /** Trees read ahead of the walk (at most TREES_AHEAD), taken by the walk when it gets there. */
  private readonly trees = new Map<Id, Promise<Node[]>>()
  /** Tree reads in flight, and the reads waiting for one of them to finish (a counter, not p-limit: a tree read is cheap, and its promises and closures were a good part of the plan's garbage). */
  private treeReads = 0
  private readonly treeWaiting: Array<() => void> = []
  private readonly statLimit: LimitFunction
  private readonly selected: (path: string) => boolean
  /** True if include/exclude patterns are given (else every path is selected and no leaf's path is built). */
  private readonly filtering: boolean
  private readonly progress: Progress
  /** Hash existing files even when size and mtime match (`verifyExisting`, `overwrite: 'always'`). */
  private readonly verifyExisting: boolean

  constructor(
    private readonly indexed: IndexedRepository,
    /** The plan's options (kept in the plan for restore). */
    private readonly opts: ResolvedRestoreOptions,
    private readonly control: ResolvedControl,
    /** The plan's target (entries' paths are below it). */
    base: string,
  ) {
    this.entries = new PlanEntries(base)
    this.selected = pathFilter({ include: opts.include, exclude: opts.exclude, ignoreCase: opts.ignoreCase })
    this.filtering = opts.include.length > 0 || opts.exclude.length > 0
    this.progress = control.progress('spinner', 'collecting file information')
    this.statLimit = pLimit(opts.fileConcurrency)
    this.verifyExisting = opts.verifyExisting || opts.overwrite === 'always'
  }

  /** True if the include/exclude patterns select `rel`. */
  isSelected(rel: string): boolean {
    return this.selected(rel)
  }

  /**
   * Starts reading the trees of the directories among `nodes` from `from` on, while fewer than TREES_AHEAD
   * are read ahead; returns where it stopped (call again from there as the walk takes trees).
   */
  private readAhead(nodes: readonly Node[], from: number): number {
    let i = from
    for (; i < nodes.length && this.trees.size < TREES_AHEAD; i++) {
      const n = nodes[i]!
      if (n.type !== 'dir' || !n.subtree || this.trees.has(n.subtree)) continue
      const p = this.readTree(n.subtree)
      p.catch(ignore) // (raised when the walk takes it)
      this.trees.set(n.subtree, p)
    }
    return i
  }

  /** Tree `id`: the one read ahead (taken out), or read now. */
  private async getTree(id: Id): Promise<Node[]> {
    const p = this.trees.get(id)
    if (p) {
      this.trees.delete(id)
      return p
    }
    return this.readTree(id)
  }

  /**
   * Reads tree `id` past the repository's tree cache, which keeps thousands of trees whatever their size:
   * the walk reads each tree once, and the plan must not hold every node of the snapshot.
   */
  private async readTree(id: Id): Promise<Node[]> {
    if (this.treeReads < TREE_READS) this.treeReads++
    else await new Promise<void>((resolve) => this.treeWaiting.push(resolve))
    try {
      return parseTree(await this.indexed.getBlob('tree', id, { signal: this.control.signal }), `tree ${id}`)
    } finally {
      // hand the slot to the next waiting read, if any
      const next = this.treeWaiting.shift()
      if (next) next()
      else this.treeReads--
    }
  }

  private contentOf(n: Node): Content {
    const ids = n.content ?? []
    const lengths = ids.map((id) => {
      const loc = this.indexed.locate('data', id)
      return blobDataLength(loc)
    })
    return { ids, lengths, size: lengths.reduce((a, b) => a + b, 0) }
  }

  /**
   * True if the `overwrite` option leaves the existing entry `lst` where snapshot node `n` goes as it is:
   * always with `never`; with `if-newer` unless the snapshot's mtime is newer than the entry's.
   */
  private keepsExisting(n: Node, lst: BigIntStats): boolean {
    const mode = this.opts.overwrite
    if (mode === 'never') return true
    if (mode !== 'if-newer') return false
    const mtime = nodeTimeNs(n.mtime)
    return mtime === undefined || mtime <= lst.mtimeNs
  }

  /** Adds an entry that the `overwrite` option leaves as it is. */
  private keep(parent: number, n: Node, at: EntryAt | undefined): void {
    this.entries.add(parent, n, 'kept', at)
    this.progress.inc(1)
  }

  /**
   * Adds the entry for a non-directory node at `fsp` below entry `parent`, given what exists there now
   * (`lst`); `at` when it is not at `parent`'s path + its name (a single entry restored as the target path).
   * `rel` and `fsp` are used only when `lst` is given.
   */
  planLeaf(parent: number, n: Node, rel: string, fsp: FsPath, lst: BigIntStats | undefined, at?: EntryAt): Promise<void> | undefined {
    const { entries } = this
    if (lst && this.keepsExisting(n, lst)) {
      this.keep(parent, n, at)
      return undefined
    }
    // (synchronous but for an existing symlink's target: no promise per file)
    let action: PlanAction = 'create'
    switch (n.type) {
      case 'file': {
        const key = n.links !== undefined && n.links > 1 && n.inode ? `${n.deviceId ?? 0n}:${n.inode}` : undefined
        const canonical = key === undefined ? undefined : this.hardlinks.get(key)
        if (canonical !== undefined) {
          const c = canonical.existing
          if (lst?.isFile() && entries.action(canonical.entry) !== 'create' && c && lst.ino === c.ino && lst.dev === c.dev) action = 'unchanged'
          else this.replaced(rel, fsp, lst)
          const idx = entries.add(parent, n, action, at)
          entries.setLinkTo(idx, canonical.entry)
          this.progress.inc(1)
          return
        }
        // (a new file's blobs are looked up once, as they are added: no Content made)
        let content: Content | undefined
        let existingSize = 0
        if (lst?.isFile()) {
          content = this.contentOf(n)
          existingSize = Number(lst.size)
          const mtime = nodeTimeNs(n.mtime)
          if (content.size === 0 && existingSize === 0) action = 'unchanged'
          else if (!this.verifyExisting && existingSize === content.size && mtime !== undefined && sameTime(lst.mtimeNs, mtime)) action = 'unchanged'
          else action = 'modify'
        } else this.replaced(rel, fsp, lst)
        const idx = entries.add(parent, n, action, at)
        if (key !== undefined) this.hardlinks.set(key, { entry: idx, existing: lst?.isFile() ? { ino: lst.ino, dev: lst.dev } : undefined })
        if (action === 'create') this.addNewFile(idx, n.content)
        else if (action === 'modify') this.checks.push({ entry: idx, fsPath: fsp, content: content!, existingSize })
        else this.bytesMatched += content!.size
        this.progress.inc(1)
        return
      }
      case 'symlink': {
        if (lst?.isSymbolicLink()) return this.planExistingSymlink(parent, n, rel, fsp, lst, at)
        this.replaced(rel, fsp, lst)
        break
      }
      case 'fifo':
        if (lst?.isFIFO()) action = 'unchanged'
        else this.replaced(rel, fsp, lst)
        break
      case 'dev':
      case 'chardev': {
        const same = n.type === 'dev' ? lst?.isBlockDevice() : lst?.isCharacterDevice()
        if (same && lst!.rdev === (n.device ?? 0n)) action = 'unchanged'
        else this.replaced(rel, fsp, lst)
        break
      }
      default:
        return // sockets (and anything else) are not restored, as in restic
    }
    entries.add(parent, n, action, at)
    this.progress.inc(1)
  }

  /** Records that the existing entry `lst` at `rel` is removed to make way for the snapshot's (nothing if there is none). */
  private replaced(rel: string, fsp: FsPath, lst: BigIntStats | undefined): void {
    if (lst) this.removals.push({ path: rel, fsPath: fsp, isDir: lst.isDirectory(), reason: 'replaced' })
  }

  /** {@link RestorePlanner.planLeaf} for a symlink node where a symlink exists: unchanged if it points at the same target. */
  private async planExistingSymlink(parent: number, n: Node, rel: string, fsp: FsPath, lst: BigIntStats, at: EntryAt | undefined): Promise<void> {
    let current: Buffer | undefined
    try {
      current = await readlink(fsp, { encoding: 'buffer' })
    } catch (e) {
      if (!isNotFound(e)) throw restoreIoError(e, 'read symlink', fsp)
    }
    const same = current?.equals(nodeLinktargetBytes(n)) ?? false
    if (!same) this.replaced(rel, fsp, lst)
    this.entries.add(parent, n, same ? 'unchanged' : 'create', at)
    this.progress.inc(1)
  }

  /**
   * Plans the entries of tree `treeId` restored into `fsDir` (the directory of entry `parent`, -1 for the
   * target); returns true if anything was planned there.
   */
  async planDir(parent: number, treeId: Id | undefined, relDir: string, fsDir: FsPath, exists: boolean): Promise<boolean> {
    const { entries, removals, opts } = this
    throwIfAborted(this.control.signal)
    const startEntries = entries.length
    const startRemovals = removals.length
    const nodes = treeId === undefined ? [] : await this.getTree(treeId)
    for (const n of nodes) checkNodeName(n, relDir)
    let ahead = this.readAhead(nodes, 0)

    const existing = new Map<string, Dirent<Buffer>>()
    if (exists) {
      let dirents: Dirent<Buffer>[]
      try {
        dirents = await readdir(fsDir, { withFileTypes: true, encoding: 'buffer' })
      } catch (e) {
        throw restoreIoError(e, 'read directory', fsDir)
      }
      for (const d of dirents) existing.set(d.name.toString('latin1'), d)
    }
    // lstat the existing entries that snapshot leaves will replace or keep, in parallel
    const stats = new Map<string, Promise<BigIntStats | undefined>>()
    const keyOf = (n: Node): string => Buffer.from(nodeNameBytes(n)).toString('latin1')
    for (const n of existing.size > 0 ? nodes : []) {
      const key = keyOf(n)
      const d = existing.get(key)
      if (d === undefined || n.type === 'dir') continue
      const p = joinFsPath(fsDir, n)
      stats.set(
        key,
        this.statLimit(() => lstatIfAny(p)),
      )
    }
    for (const s of stats.values()) s.catch(() => {})

    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!
      throwIfAborted(this.control.signal)
      let d: Dirent<Buffer> | undefined
      let key = ''
      if (existing.size > 0) {
        key = keyOf(n)
        d = existing.get(key)
        existing.delete(key)
      }
      if (n.type === 'dir') {
        const rel = `${relDir}/${n.name}`
        const fsp = joinFsPath(fsDir, n)
        const isDir = d?.isDirectory() ?? false
        if (d !== undefined && !isDir && this.opts.overwrite !== 'always' && this.opts.overwrite !== 'if-changed') {
          const lst = await lstatIfAny(fsp)
          if (lst && this.keepsExisting(n, lst)) {
            if (this.selected(rel)) this.keep(parent, n, undefined)
            continue
          }
        }
        const remIdx = removals.length
        const idx = entries.add(parent, n, isDir ? 'unchanged' : 'create')
        this.progress.inc(1)
        if (d !== undefined && !isDir) removals.push({ path: rel, fsPath: fsp, isDir: false, reason: 'replaced' })
        if (ahead <= i) ahead = i + 1
        const any = await this.planDir(idx, n.subtree, rel, fsp, isDir)
        if (!any && !this.selected(rel)) {
          entries.truncate(idx)
          removals.length = remIdx
        }
        ahead = this.readAhead(nodes, ahead)
        continue
      }
      // (a leaf's paths are built only where they are used: filtering, or an existing entry there)
      const rel = this.filtering || d !== undefined ? `${relDir}/${n.name}` : ''
      if (this.filtering && !this.selected(rel)) continue
      const planned = d === undefined ? this.planLeaf(parent, n, rel, '', undefined) : this.planLeaf(parent, n, rel, joinFsPath(fsDir, n), await stats.get(key))
      if (planned) await planned
    }

    // what the target has and the snapshot does not
    for (const d of existing.values()) {
      const rel = `${relDir}/${d.name.toString('utf8')}`
      if (opts.delete && this.selected(rel)) {
        removals.push({ path: rel, fsPath: joinFsName(fsDir, d.name), isDir: d.isDirectory(), reason: 'additional' })
      } else this.additionalKept++
    }
    return entries.length > startEntries || removals.length > startRemovals
  }

  /**
   * The plan: the changed files compared blob by blob (the matching blobs are not written again), the files
   * to write with the blobs they need, and the pack reads that bring those blobs.
   */
  async finish(target: string, isDir: boolean, createTarget: boolean): Promise<RestorePlan> {
    const { entries, removals, files, blobs } = this
    await this.compareChanged()
    const reads = blobs.build({ maxReadGap: this.opts.maxReadGap, maxReadSize: this.opts.maxReadSize })
    const stats: RestorePlanStats = {
      files: { create: 0, modify: 0, unchanged: 0, verified: 0, kept: 0 },
      dirs: { create: 0, unchanged: 0, kept: 0 },
      others: { create: 0, unchanged: 0, kept: 0 },
      removals: { additional: 0, replaced: 0 },
      additionalKept: this.additionalKept,
      bytesToRead: 0,
      bytesToWrite: this.bytesToWrite,
      bytesMatched: this.bytesMatched,
      blobs: blobs.size,
      packs: blobs.packs,
      reads: reads.length,
    }
    for (let r = 0; r < reads.length; r++) stats.bytesToRead += reads.rangeLength(r)
    this.blobs = new PlannedBlobs()
    for (let i = 0; i < entries.length; i++) {
      const type = entries.type(i)
      const action = entries.action(i)
      if (type === 'file') stats.files[action]++
      else {
        const s = type === 'dir' ? stats.dirs : stats.others
        if (action === 'create') s.create++
        else if (action === 'kept') s.kept++
        else s.unchanged++
      }
    }
    for (const r of removals) stats.removals[r.reason]++
    this.progress.finish()
    return { target, isDir, createTarget, entries, removals, files, reads, stats, options: this.opts }
  }

  /**
   * Hashes the changed files blob by blob: the ones that turn out identical are `verified`; the others are
   * written, their matching blobs left alone.
   */
  private async compareChanged(): Promise<void> {
    const matched = new Map<number, boolean[]>()
    await Promise.all(
      this.checks.map((c) =>
        this.statLimit(async () => {
          let m: boolean[]
          try {
            m = await matchExisting(c.fsPath, c.content.ids, c.content.lengths, c.existingSize, this.control.signal)
          } catch (err) {
            throw restoreIoError(err, 'read', c.fsPath)
          }
          if (c.existingSize === c.content.size && m.every(Boolean)) {
            this.entries.setAction(c.entry, 'verified')
            this.bytesMatched += c.content.size
          } else matched.set(c.entry, m)
        }),
      ),
    )
    // in entry order, whatever order the hashing finished in
    for (const c of this.checks) {
      const m = matched.get(c.entry)
      if (m) this.addFile(c.entry, c.content, false, m)
    }
    this.checks.length = 0
  }

  /** Adds a new file to write with blobs `ids` (looked up once each: in the plan's blobs, else in the index). */
  private addNewFile(entry: number, ids: readonly Id[] | null | undefined): void {
    const { files, blobs } = this
    const fileIdx = files.add(entry, 0, true)
    let offset = 0
    if (ids) {
      for (let j = 0; j < ids.length; j++) {
        const id = ids[j]!
        let b = blobs.indexOf(id)
        let len: number
        if (b < 0) {
          const loc = this.indexed.locate('data', id)
          len = blobDataLength(loc)
          b = blobs.add(id, loc, len)
        } else len = blobs.dataLength(b)
        blobs.addTarget(b, fileIdx, offset)
        offset += len
      }
      files.addWrites(fileIdx, ids.length)
    }
    files.setSize(fileIdx, offset)
    this.bytesToWrite += offset
    this.entries.setFile(entry, fileIdx)
  }

  /** Adds a file to write (`matched`: its blobs already in place, for an existing file) and the blobs it needs. */
  private addFile(entry: number, content: Content, create: boolean, matched: boolean[] | undefined): void {
    const { files, blobs } = this
    const fileIdx = files.add(entry, content.size, create)
    let offset = 0
    for (let j = 0; j < content.ids.length; j++) {
      const id = content.ids[j]!
      const len = content.lengths[j]!
      if (!create && matched?.[j]) this.bytesMatched += len
      else {
        let b = blobs.indexOf(id)
        if (b < 0) b = blobs.add(id, this.indexed.locate('data', id), len)
        blobs.addTarget(b, fileIdx, offset)
        files.addWrite(fileIdx)
        this.bytesToWrite += len
      }
      offset += len
    }
    this.entries.setFile(entry, fileIdx)
  }
}
