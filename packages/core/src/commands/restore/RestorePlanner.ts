import type { BigIntStats, Dirent } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import pLimit, { type LimitFunction } from 'p-limit'
import { CIPHERTEXT_OVERHEAD } from '../../crypto/Key.js'
import { throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { ResolvedControl } from '../../progress/Control.js'
import type { Progress } from '../../progress/Progress.js'
import { nodeLinktargetBytes, nodeNameBytes, type Node } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { pathFilter } from '../globFilter.js'
import { checkNodeName, joinFsName, joinFsPath, type FsPath } from './fsPath.js'
import { matchExisting } from './matchExisting.js'
import { nodeTimeNs, sameTime } from './nodeTimes.js'
import { planPackReads } from './packReads.js'
import type { ResolvedRestoreOptions } from './RestoreOptions.js'
import type { PlanEntry, PlannedBlob, PlannedFile, PlanRemoval, RestorePlan, RestorePlanStats } from './RestorePlan.js'
import { restoreIoError } from './restoreIoError.js'

/** Tree reads in flight while planning. */
const TREE_READS = 16
/** Most tree nodes read before the walk (about 100-200 MiB); more are read as the walk needs them. */
const PRELOAD_NODES = 500_000

/** A file's content as the index describes it. */
interface Content {
  ids: Id[]
  lengths: number[]
  size: number
}

/** A file entry whose existing content is compared blob by blob after the walk. */
interface Check {
  entry: number
  content: Content
  existingSize: number
}

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
  private readonly entries: PlanEntry[] = []
  private readonly removals: PlanRemoval[] = []
  private readonly checks: Check[] = []
  private readonly contents = new Map<number, Content>()
  /** First entry of each hard-linked inode (`dev:ino` of the snapshot). */
  private readonly hardlinks = new Map<string, number>()
  private additionalKept = 0
  /** Trees read ahead of the walk. */
  private readonly trees = new Map<Id, Node[]>()
  private preloaded = 0
  private readonly treeLimit = pLimit(TREE_READS)
  private readonly statLimit: LimitFunction
  private readonly selected: (path: string) => boolean
  private readonly progress: Progress
  /** Hash existing files even when size and mtime match (`verifyExisting`, `overwrite: 'always'`). */
  private readonly verifyExisting: boolean

  constructor(
    private readonly indexed: IndexedRepository,
    /** The plan's options (kept in the plan for restore). */
    private readonly opts: ResolvedRestoreOptions,
    private readonly control: ResolvedControl,
  ) {
    this.selected = pathFilter({ include: opts.include, exclude: opts.exclude, ignoreCase: opts.ignoreCase })
    this.progress = control.progress('spinner', 'collecting file information')
    this.statLimit = pLimit(opts.fileConcurrency)
    this.verifyExisting = opts.verifyExisting || opts.overwrite === 'always'
  }

  /** True if the include/exclude patterns select `rel`. */
  isSelected(rel: string): boolean {
    return this.selected(rel)
  }

  /**
   * Reads tree `id` and all trees below it first, TREE_READS at a time (the depth-first walk would otherwise
   * wait for each one in turn); past PRELOAD_NODES nodes the rest is read on demand.
   */
  async preload(id: Id): Promise<void> {
    if (this.trees.has(id) || this.preloaded > PRELOAD_NODES) return
    const nodes = await this.treeLimit(() => this.indexed.getTree(id, { signal: this.control.signal }))
    if (this.trees.has(id)) return
    this.trees.set(id, nodes)
    this.preloaded += nodes.length
    await Promise.all(nodes.map((n) => (n.type === 'dir' && n.subtree ? this.preload(n.subtree) : undefined)))
  }

  private async getTree(id: Id): Promise<Node[]> {
    return this.trees.get(id) ?? this.indexed.getTree(id, { signal: this.control.signal })
  }

  private contentOf(n: Node): Content {
    const ids = n.content ?? []
    const lengths = ids.map((id) => {
      const loc = this.indexed.locate('data', id)
      return loc.uncompressedLength ?? loc.length - CIPHERTEXT_OVERHEAD
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
  private keep(n: Node, rel: string, fsp: FsPath, lst: BigIntStats): void {
    this.entries.push({ path: rel, fsPath: fsp, node: n, action: 'kept', existing: { ino: lst.ino, dev: lst.dev } })
    this.progress.inc(1)
  }

  /** Adds the entry for a non-directory node at `fsp`, given what exists there now (`lst`). */
  async planLeaf(n: Node, rel: string, fsp: FsPath, lst: BigIntStats | undefined): Promise<void> {
    const { entries, removals } = this
    if (lst && this.keepsExisting(n, lst)) return this.keep(n, rel, fsp, lst)
    const replace = (): void => {
      if (lst) removals.push({ path: rel, fsPath: fsp, isDir: lst.isDirectory(), reason: 'replaced' })
    }
    const idx = entries.length
    const entry: PlanEntry = { path: rel, fsPath: fsp, node: n, action: 'create' }
    switch (n.type) {
      case 'file': {
        const key = n.links !== undefined && n.links > 1 && n.inode ? `${n.deviceId ?? 0n}:${n.inode}` : undefined
        const canonical = key === undefined ? undefined : this.hardlinks.get(key)
        if (canonical !== undefined) {
          entry.linkTo = canonical
          const c = entries[canonical]!
          if (lst?.isFile() && c.action !== 'create' && c.existing && lst.ino === c.existing.ino && lst.dev === c.existing.dev) {
            entry.action = 'unchanged'
            entry.existing = { ino: lst.ino, dev: lst.dev }
          } else replace()
          break
        }
        if (key !== undefined) this.hardlinks.set(key, idx)
        const content = this.contentOf(n)
        this.contents.set(idx, content)
        if (lst?.isFile()) {
          entry.existing = { ino: lst.ino, dev: lst.dev }
          const existingSize = Number(lst.size)
          const mtime = nodeTimeNs(n.mtime)
          if (content.size === 0 && existingSize === 0) entry.action = 'unchanged'
          else if (!this.verifyExisting && existingSize === content.size && mtime !== undefined && sameTime(lst.mtimeNs, mtime)) {
            entry.action = 'unchanged'
          } else {
            entry.action = 'modify'
            this.checks.push({ entry: idx, content, existingSize })
          }
        } else replace()
        break
      }
      case 'symlink': {
        if (lst?.isSymbolicLink()) {
          let current: Buffer | undefined
          try {
            current = await readlink(fsp, { encoding: 'buffer' })
          } catch (e) {
            if (!isNotFound(e)) throw restoreIoError(e, 'read symlink', fsp)
          }
          if (current?.equals(nodeLinktargetBytes(n))) entry.action = 'unchanged'
          else replace()
        } else replace()
        break
      }
      case 'fifo':
        if (lst?.isFIFO()) entry.action = 'unchanged'
        else replace()
        break
      case 'dev':
      case 'chardev': {
        const same = n.type === 'dev' ? lst?.isBlockDevice() : lst?.isCharacterDevice()
        if (same && lst!.rdev === (n.device ?? 0n)) entry.action = 'unchanged'
        else replace()
        break
      }
      default:
        return // sockets (and anything else) are not restored, as in restic
    }
    if (entry.action !== 'create') entry.existing ??= lst ? { ino: lst.ino, dev: lst.dev } : undefined
    entries.push(entry)
    this.progress.inc(1)
  }

  /** Plans the entries of tree `treeId` restored into `fsDir`; returns true if anything was planned there. */
  async planDir(treeId: Id | undefined, relDir: string, fsDir: FsPath, exists: boolean): Promise<boolean> {
    const { entries, removals, opts } = this
    throwIfAborted(this.control.signal)
    const startEntries = entries.length
    const startRemovals = removals.length
    const nodes = treeId === undefined ? [] : await this.getTree(treeId)
    for (const n of nodes) checkNodeName(n, relDir)

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

    for (const n of nodes) {
      throwIfAborted(this.control.signal)
      const rel = `${relDir}/${n.name}`
      const fsp = joinFsPath(fsDir, n)
      let d: Dirent<Buffer> | undefined
      let key = ''
      if (existing.size > 0) {
        key = keyOf(n)
        d = existing.get(key)
        existing.delete(key)
      }
      if (n.type === 'dir') {
        const isDir = d?.isDirectory() ?? false
        if (d !== undefined && !isDir && this.opts.overwrite !== 'always' && this.opts.overwrite !== 'if-changed') {
          const lst = await lstatIfAny(fsp)
          if (lst && this.keepsExisting(n, lst)) {
            if (this.selected(rel)) this.keep(n, rel, fsp, lst)
            continue
          }
        }
        const idx = entries.length
        const remIdx = removals.length
        entries.push({ path: rel, fsPath: fsp, node: n, action: isDir ? 'unchanged' : 'create' })
        this.progress.inc(1)
        if (d !== undefined && !isDir) removals.push({ path: rel, fsPath: fsp, isDir: false, reason: 'replaced' })
        const any = await this.planDir(n.subtree, rel, fsp, isDir)
        if (!any && !this.selected(rel)) {
          entries.length = idx
          removals.length = remIdx
        }
        continue
      }
      if (!this.selected(rel)) continue
      await this.planLeaf(n, rel, fsp, d === undefined ? undefined : await stats.get(key))
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
    const { entries, removals } = this
    const matched = await this.compareChanged()
    const { files, blobs, bytesToWrite, bytesMatched } = this.filesToWrite(matched)
    const reads = planPackReads(blobs.values(), { maxReadGap: this.opts.maxReadGap, maxReadSize: this.opts.maxReadSize })
    const stats: RestorePlanStats = {
      files: { create: 0, modify: 0, unchanged: 0, verified: 0, kept: 0 },
      dirs: { create: 0, unchanged: 0, kept: 0 },
      others: { create: 0, unchanged: 0, kept: 0 },
      removals: { additional: 0, replaced: 0 },
      additionalKept: this.additionalKept,
      bytesToRead: reads.reduce((a, r) => a + r.length, 0),
      bytesToWrite,
      bytesMatched,
      blobs: blobs.size,
      packs: new Set(reads.map((r) => r.packId)).size,
      reads: reads.length,
    }
    for (const e of entries) {
      if (e.node.type === 'file') stats.files[e.action]++
      else {
        const s = e.node.type === 'dir' ? stats.dirs : stats.others
        if (e.action === 'create') s.create++
        else if (e.action === 'kept') s.kept++
        else s.unchanged++
      }
    }
    for (const r of removals) stats.removals[r.reason]++
    this.progress.finish()
    return { target, isDir, createTarget, entries, removals, files, reads, stats, options: this.opts }
  }

  /** Hashes the changed files blob by blob: the ones that turn out identical are `verified`; the others' matching blobs, by entry. */
  private async compareChanged(): Promise<Map<number, boolean[]>> {
    const matched = new Map<number, boolean[]>()
    await Promise.all(
      this.checks.map((c) =>
        this.statLimit(async () => {
          const e = this.entries[c.entry]!
          let m: boolean[]
          try {
            m = await matchExisting(e.fsPath, c.content.ids, c.content.lengths, c.existingSize, this.control.signal)
          } catch (err) {
            throw restoreIoError(err, 'read', e.fsPath)
          }
          if (c.existingSize === c.content.size && m.every(Boolean)) e.action = 'verified'
          else matched.set(c.entry, m)
        }),
      ),
    )
    return matched
  }

  /** The files to write, each blob to read (once) with the places it goes, and the byte counts. */
  private filesToWrite(matched: Map<number, boolean[]>): {
    files: PlannedFile[]
    blobs: Map<Id, { packId: Id; blob: PlannedBlob }>
    bytesToWrite: number
    bytesMatched: number
  } {
    const files: PlannedFile[] = []
    const blobs = new Map<Id, { packId: Id; blob: PlannedBlob }>()
    let bytesToWrite = 0
    let bytesMatched = 0
    const entries = this.entries
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!
      const content = this.contents.get(i)
      if (e.node.type !== 'file' || e.linkTo !== undefined || content === undefined) continue
      if (e.action === 'unchanged' || e.action === 'verified') {
        bytesMatched += content.size
        continue
      }
      const create = e.action === 'create'
      const m = matched.get(i)
      const file: PlannedFile = { entry: i, size: content.size, create, writes: 0 }
      const fileIdx = files.length
      let offset = 0
      for (let j = 0; j < content.ids.length; j++) {
        const id = content.ids[j]!
        const len = content.lengths[j]!
        if (!create && m?.[j]) bytesMatched += len
        else {
          const b = blobs.get(id)
          // (an array made with its element, not grown by push: most blobs have one target)
          if (b) b.blob.targets.push({ file: fileIdx, offset })
          else {
            const loc = this.indexed.locate('data', id)
            const targets = [{ file: fileIdx, offset }]
            const blob: PlannedBlob = { id, offset: loc.offset, length: loc.length, uncompressedLength: loc.uncompressedLength, dataLength: len, targets }
            blobs.set(id, { packId: loc.packId, blob })
          }
          file.writes++
          bytesToWrite += len
        }
        offset += len
      }
      e.file = fileIdx
      files.push(file)
    }
    return { files, blobs, bytesToWrite, bytesMatched }
  }
}
