import pLimit from 'p-limit'
import { Packer, SealPool, type PackerStats, type SharedBlobClaims, type StoredFile } from '../blob/index.js'
import type { BlobInFlight, BlobWriter } from '../index/BlobsInFlight.js'
import { BACKUP_INDEX_MAX_BLOBS, Indexer } from '../index/Indexer.js'
import type { DecryptBackend } from '../backend/DecryptBackend.js'
import { Chunker } from '../chunker/index.js'
import { isRusticError, RusticError, throwIfAborted } from '../error/RusticError.js'
import { hashId, type Id } from '../id/Id.js'
import type { Progress, WarningHandler } from '../progress/Progress.js'
import { parseTree, sameSerializedNode, serializeNode, serializeTree, type IndexPack, type Node } from '../repofile/index.js'
import type { IndexedRepository } from '../repository/IndexedRepository.js'
import { ArchiverOptionsSchema, type ArchiverOptions } from './ArchiverOptions.js'
import { BackupStats } from './BackupStats.js'
import { isStillEmpty } from './isStillEmpty.js'
import type { ReadSource, ReadSourceEntry } from './ReadSource.js'
import { parseOptions } from '../util/parseOptions.js'
import { blobDataLength } from '../blob/blobDataLength.js'

/** What {@link Archiver.archive} produced. */
export interface ArchiveResult {
  /** The root tree of the new snapshot. */
  tree: Id
  stats: BackupStats
  data: PackerStats
  trees: PackerStats
  /** Index files written. */
  indexFiles: Id[]
}

/** Context for one archive run. */
export interface ArchiveContext {
  signal?: AbortSignal
  /** Bytes progress over the files read or reused. */
  progress?: Progress
  onWarning?: WarningHandler
  /** Add stored packs to the indexed repository's in-memory index (default true; false for a dry run). */
  updateIndex?: boolean
  /** The encryption layer to write through (default: the repository's; a dry run passes one over a `DryRunBackend`). */
  dbe?: DecryptBackend
  /**
   * Settles once the index holds every blob the archive may reuse (a backup adopts orphan packs while the walk
   * starts): the packers, which ask the index which blobs are new, are made only after it, and its rejection
   * fails the archive.
   */
  indexComplete?: Promise<unknown>
}

/** Files waiting for a place in the readers' queue: the walk waits while there are more than this. */
const READS_AHEAD = 256
/** Small files handed to the seal workers and not done: the walk waits while there are more than this. */
const SMALL_FILES_AHEAD = 512
/** The walk held back this long by the seal workers starts the ones that did not start with the pool. */
const GROW_AFTER_MS = 100

/** A directory's tree in the parent snapshot. */
interface ParentTree {
  id: Id
  /** Its nodes, by name. */
  nodes: Map<string, Node>
}

/** A child of an open directory: its node, a promise of it while it is being stored, or undefined if skipped. */
type Child = Node | Promise<Node | undefined> | undefined

/** An open directory while entries stream in. */
interface Frame {
  /** Index of this directory's node in its parent's `children` (-1 for the root). */
  slot: number
  path: string
  node: Node | undefined
  children: Child[]
  /** The same directory in the parent snapshot. */
  parent: Promise<ParentTree | undefined>
  /** `parent` once settled (null: none); entries of a directory whose parent tree is in are handled synchronously. */
  parentTree?: ParentTree | null
  /** Children whose nodes serialize as the parent snapshot's nodes of the same name. */
  same: number
}

const nameKey = (n: Node): string => (n.nameRaw ? `\0${Buffer.from(n.nameRaw).toString('hex')}` : n.name)

function newFrame(slot: number, path: string, node: Node | undefined, parent: Promise<ParentTree | undefined>): Frame {
  const frame: Frame = { slot, path, node, children: [], parent, same: 0 }
  void parent.then((t) => (frame.parentTree = t ?? null))
  return frame
}

/** The parent-snapshot node named `key` in `frame`'s directory: at once if its parent tree is in. */
function parentNodeOf(frame: Frame, key: string): Node | undefined | Promise<Node | undefined> {
  const pt = frame.parentTree
  return pt === undefined ? frame.parent.then((t) => t?.nodes.get(key)) : pt?.nodes.get(key)
}

/** True if the nodes' names ascend strictly (so no two are the same). */
function ascendingNames(nodes: readonly Node[]): boolean {
  for (let i = 1; i < nodes.length; i++) if (!(nameKey(nodes[i - 1]!) < nameKey(nodes[i]!))) return false
  return true
}

/**
 * Turns a {@link ReadSource} into trees and blobs in a repository (rustic_core's archiver):
 * files are chunked with the repository's polynomial and deduplicated against the index; a file whose
 * size, mtime, ctime and inode match its node in the parent snapshot reuses the parent's content without
 * being read; trees are written bottom-up. Packs are stored before the index files that name them.
 */
export class Archiver {
  private readonly opts: ReturnType<typeof ArchiverOptionsSchema.parse>
  private readonly chunker: Chunker
  private readonly dbe: DecryptBackend
  private readonly indexer: Indexer
  /** Made (with the seal workers) when the first file content needs storing: an unchanged backup starts no workers. */
  private dataPackerPromise: Promise<Packer> | undefined
  private dataPackerMade: Packer | undefined
  /** Made with the first tree (see {@link Archiver.treePacker}). */
  private treePackerMade: Packer | undefined
  private pool: SealPool | undefined
  /** The first error of a file or tree processed in the background: ends the walk. */
  private failure: { error: unknown } | undefined
  private readonly stats = new BackupStats()
  /** Nodes already serialized (to compare them with the parent's), for their tree. */
  private readonly serialized = new WeakMap<Node, string>()
  private readonly limit: ReturnType<typeof pLimit>
  /** Small files handed to the seal workers and not done yet. */
  private smallInFlight = 0
  /** Wakes the walk waiting for the readers to catch up (see {@link Archiver.caughtUp}). */
  private wake: (() => void) | undefined
  /** This archiver as a writer of the indexed repository's blobs in flight (when it updates the index). */
  private readonly writer: BlobWriter | undefined
  /** Blobs other archivers of the same repository object store for this one. */
  private readonly borrowed = new Set<BlobInFlight>()
  private hurrying: Promise<void> | undefined

  constructor(
    private readonly indexed: IndexedRepository,
    private readonly parentTree: Id | undefined,
    options: ArchiverOptions = {},
    private readonly ctx: ArchiveContext = {},
  ) {
    this.opts = parseOptions(ArchiverOptionsSchema, options, 'archiver options')
    this.chunker = new Chunker(indexed.repo.config.chunkerPolynomial)
    this.dbe = ctx.dbe ?? indexed.repo.dbe
    // No signal for the indexer: after an abort it still indexes the packs that were stored.
    // Packs stored also go into the in-memory index, so the indexed repository can read the new snapshot.
    const shared = ctx.updateIndex !== false
    // Concurrent backups on the same indexed repository store each new blob once: see `BlobsInFlight`.
    this.writer = shared ? { hurry: () => this.hurry() } : undefined
    const writer = this.writer
    const onPack = writer
      ? (pack: IndexPack): void => {
          indexed.index.addIndexFile({ packs: [pack] })
          indexed.blobsInFlight.packStored(writer, pack.id, pack.blobs)
        }
      : undefined
    const onSaved = writer ? (packIds: readonly Id[]): void => indexed.blobsInFlight.stored(writer, packIds) : undefined
    // The packers find stored blobs in the in-memory index (onPack): the indexer need not keep their ids too.
    this.indexer = new Indexer(this.dbe, { onPack, onSaved, keepIds: !shared, maxBlobsPerFile: BACKUP_INDEX_MAX_BLOBS })
    this.limit = pLimit(this.opts.readConcurrency)
  }

  /** The packers' view of the blobs other archivers of the same repository object are storing. */
  private sharedBlobs(): SharedBlobClaims | undefined {
    const writer = this.writer
    if (!writer) return undefined
    const inFlight = this.indexed.blobsInFlight
    return {
      elsewhere: (type, id) => {
        const b = inFlight.elsewhere(type, id, writer)
        if (b) this.borrowed.add(b)
        return b !== undefined
      },
      claim: (type, id) => inFlight.claim(type, id, writer),
    }
  }

  /** Another archiver waits for blobs of this one: store the partly filled packs and their index entries now. */
  private hurry(): void {
    this.hurrying ??= (async () => {
      await Promise.allSettled([this.dataPackerMade?.flush(), this.treePackerMade?.flush()])
      await this.indexer.flushNow().catch(() => {}) // a failed write is tried again by finalize
    })().finally(() => (this.hurrying = undefined))
  }

  /**
   * Archives every entry of `source`; returns the root tree id once all packs and index files are stored,
   * and the blobs other archivers stored for it are too.
   */
  async archive(source: ReadSource): Promise<ArchiveResult> {
    const { signal } = this.ctx
    const root = newFrame(-1, '', undefined, this.loadParentTree(this.parentTree))
    const stack: Frame[] = [root]
    const onError = (path: string, error: unknown): void => this.skip(path, error)
    let failed: unknown
    try {
      // Without a parent snapshot every file listed empty is checked: the source may do that as it lists them.
      const options = { signal, onError, checkEmptyFiles: this.parentTree === undefined }
      // With a parent snapshot (most entries unchanged, nothing to read), in the source's batches where it has them: no
      // promise per entry. A full backup takes them one at a time (each of its entries is read anyway).
      const batches = this.parentTree !== undefined ? source.entryBatches?.(options) : undefined
      if (batches) {
        for await (const batch of batches) {
          for (const entry of batch) {
            const wait = this.addEntry(entry, stack)
            if (wait) await wait
          }
        }
      } else {
        for await (const entry of source.entries(options)) {
          const wait = this.addEntry(entry, stack)
          if (wait) await wait
        }
      }
      while (stack.length > 1) this.closeFrame(stack)
      const tree = await this.finishTree(root)
      const data = this.dataPackerPromise ? await (await this.dataPackerPromise).finalize() : { blobs: 0, packs: 0, dataAdded: 0, dataAddedPacked: 0 }
      const trees = await (await this.treePacker()).finalize()
      // Every blob is sealed: the seal workers (their isolates and buffers) go before the last index file is made.
      await this.pool?.close()
      const result = { tree, stats: this.stats, data, trees, indexFiles: await this.indexer.finalize() }
      await this.indexed.blobsInFlight.waitFor(this.borrowed, signal)
      return result
    } catch (e) {
      failed = e
      throw e
    } finally {
      if (failed !== undefined) {
        // Store what was uploaded completely, so the next run can reuse it; then report the original error.
        await this.dataPackerPromise?.then((p) => p.finalize()).catch(() => {})
        await this.treePackerMade?.finalize().catch(() => {})
        await this.indexer.finalize().catch(() => {})
      }
      if (this.writer) this.indexed.blobsInFlight.release(this.writer, failed)
      await this.dataPackerPromise?.catch(() => {})
      await this.pool?.close()
    }
  }

  /** Takes one entry of the source into the open directories; a promise while the walk must wait for the readers. */
  private addEntry(entry: ReadSourceEntry, stack: Frame[]): Promise<void> | undefined {
    const { signal } = this.ctx
    throwIfAborted(signal)
    if (this.failure) throw this.failure.error
    const parentPath = entry.path.slice(0, Math.max(0, entry.path.lastIndexOf('/')))
    while (stack.length > 1 && stack[stack.length - 1]!.path !== parentPath) this.closeFrame(stack)
    const top = stack[stack.length - 1]!
    if (top.path !== parentPath) {
      throw new RusticError('Internal', `backup source yielded ${entry.path} before its directory ${parentPath || '/'}`, {
        code: 'SourceOrder',
      })
    }
    const parentNode = parentNodeOf(top, nameKey(entry.node))
    if (entry.node.type === 'dir') {
      top.children.push(undefined) // placeholder replaced when the frame closes
      const subtree = (p: Node | undefined): Promise<ParentTree | undefined> => this.loadParentTree(p?.type === 'dir' ? p.subtree : undefined)
      stack.push(newFrame(top.children.length - 1, entry.path, entry.node, parentNode instanceof Promise ? parentNode.then(subtree) : subtree(parentNode)))
    } else {
      const child = this.processEntry(entry, parentNode, top)
      top.children.push(child instanceof Promise ? this.watch(child) : child)
    }
    // A large file waits for a reader: the seal workers that did not start with the pool are needed.
    if (this.limit.pendingCount > 0) this.pool?.grow()
    // Back-pressure: do not run too far ahead of the file readers.
    if (this.limit.pendingCount > READS_AHEAD || this.smallInFlight > SMALL_FILES_AHEAD) return this.waitForReaders()
    return undefined
  }

  /** Waits until the readers have caught up (see {@link Archiver.caughtUp}). */
  private async waitForReaders(): Promise<void> {
    // (held back for long by small files, too; a short wait is one worker finishing a large file first)
    const grow = this.pool && this.pool.size < this.opts.sealWorkers ? setTimeout(() => this.pool?.grow(), GROW_AFTER_MS) : undefined
    await new Promise<void>((resolve) => (this.wake = resolve))
    clearTimeout(grow)
  }

  /** The data packer, made with the seal workers on first use. */
  private dataPacker(): Promise<Packer> {
    return (this.dataPackerPromise ??= (async () => {
      // the workers start while orphan packs are adopted (the packer needs the whole index, the workers do not)
      // With a parent snapshot one worker starts, the others once files wait for it (see `SealPool.grow`): an
      // incremental backup's new data is often too little to need them.
      const initialWorkers = this.parentTree !== undefined && !this.opts.force ? 1 : undefined
      const starting = this.opts.sealWorkers > 0 ? SealPool.start(this.dbe, { workers: this.opts.sealWorkers, initialWorkers, chunker: this.chunker }) : undefined
      const [complete, started] = await Promise.allSettled([this.ctx.indexComplete, starting])
      this.pool = started.status === 'fulfilled' ? started.value : undefined
      if (started.status === 'rejected') throw started.reason
      if (complete.status === 'rejected') throw complete.reason
      const packer = new Packer(this.dbe, 'data', this.indexer, this.indexed.index, {
        signal: this.ctx.signal,
        config: this.indexed.repo.config,
        sealPool: this.pool,
        sharedBlobs: this.sharedBlobs(),
      })
      this.dataPackerMade = packer
      return packer
    })())
  }

  /**
   * The tree packer, made with the first tree: it seals on the seal workers if they are running or
   * starting by then (as they are when files were read), else on this thread.
   */
  private async treePacker(): Promise<Packer> {
    if (!this.treePackerMade) {
      await this.dataPackerPromise?.catch(() => {})
      await this.ctx.indexComplete
    }
    return (this.treePackerMade ??= new Packer(this.dbe, 'tree', this.indexer, this.indexed.index, {
      signal: this.ctx.signal,
      config: this.indexed.repo.config,
      sealPool: this.pool,
      sharedBlobs: this.sharedBlobs(),
    }))
  }

  /** Remembers the first failure of work running in the background (and marks the promise handled). */
  private watch<T>(p: Promise<T>): Promise<T> {
    p.catch((error: unknown) => {
      this.failure ??= { error }
    })
    return p
  }

  private closeFrame(stack: Frame[]): void {
    const frame = stack.pop()!
    const parent = stack[stack.length - 1]!
    const node = frame.node!
    parent.children[frame.slot] = this.watch(this.finishTree(frame).then(async (subtree) => {
      node.content = null
      node.subtree = subtree
      const state = this.classify(node, await parentNodeOf(parent, nameKey(node)))
      this.stats.count('dir', state)
      if (state === 'unmodified') parent.same++
      this.stats.totalDirsProcessed++
      return node
    }))
  }

  /**
   * Stores a directory's tree once its children are done. A directory whose children all serialize as
   * the parent snapshot's nodes of the same directory gets the parent's tree back, unwritten: the text it
   * would have is the parent tree's (both written as restic writes trees).
   */
  private async finishTree(frame: Frame): Promise<Id> {
    const children = frame.children.some((c) => c instanceof Promise) ? await Promise.all(frame.children) : frame.children
    const nodes = children.filter((n): n is Node => n !== undefined)
    const pt = frame.parentTree === undefined ? await frame.parent : frame.parentTree
    const known = pt && frame.same === nodes.length && pt.nodes.size === nodes.length ? this.indexed.index.get('tree', pt.id) : undefined
    if (known && pt && ascendingNames(nodes)) {
      this.stats.totalDirsizeProcessed += blobDataLength(known)
      return pt.id
    }
    const bytes = serializeTree(nodes, (n) => this.serialized.get(n) ?? serializeNode(n))
    const id = hashId(bytes)
    this.stats.totalDirsizeProcessed += bytes.length
    await (this.treePackerMade ?? (await this.treePacker())).add(id, bytes)
    return id
  }

  private async loadParentTree(id: Id | undefined): Promise<ParentTree | undefined> {
    if (!id) return undefined
    // a tree in a pack no index named yet may be adopted meanwhile (see `indexComplete`)
    if (this.ctx.indexComplete && this.indexed.index.get('tree', id) === undefined) await this.ctx.indexComplete.catch(() => {})
    try {
      // Each parent tree is read once: not through the repository's tree cache, which would keep up to 4,096
      // trees' nodes (all of a snapshot of 200,000 files in 2,000 directories) until the backup ends.
      const nodes = new Map<string, Node>()
      for (const n of parseTree(await this.indexed.getBlob('tree', id, { signal: this.ctx.signal }), `tree ${id}`)) nodes.set(nameKey(n), n)
      return { id, nodes }
    } catch (e) {
      this.ctx.onWarning?.(`cannot read parent tree ${id}, backing up without it: ${(e as Error).message}`, e)
      return undefined
    }
  }

  /** The node of a non-directory entry of `frame`: at once if it needs no reading and its parent-snapshot node is known. */
  private processEntry(entry: ReadSourceEntry, parentNode: Node | undefined | Promise<Node | undefined>, frame: Frame): Child {
    if (parentNode instanceof Promise) return parentNode.then((p) => this.processEntry(entry, p, frame))
    const parent = parentNode
    const node = entry.node
    if (node.type !== 'file') {
      node.content = null
      if (parent && this.sameAsParent(node, parent)) frame.same++
      return node
    }
    throwIfAborted(this.ctx.signal)
    const reused = this.reuseParentContent(node, parent)
    if (reused) {
      // unchanged: no reading, so no place in the readers' queue
      this.ctx.progress?.inc(node.size ?? 0)
      node.content = reused
      return this.counted(node, parent, frame)
    }
    // A local file listed empty that is still empty has nothing to read (restic reads it and finds no chunk).
    // The source may have checked it as it listed it (off this thread); else it is checked here.
    if (!node.size && entry.localPath !== undefined && (entry.empty ?? isStillEmpty(entry.localPath))) {
      node.content = []
      return this.counted(node, parent, frame)
    }
    // The first file with bytes to read starts the seal workers (their two isolates and buffers): a backup
    // that reads nothing (empty files only) does without them and seals its trees on this thread.
    if (!this.dataPackerPromise) void this.dataPacker().catch(() => {})
    // Small local files are stored by the seal workers in one step each: many may be in flight (the workers
    // take them in batches), their cost is latency.
    if (this.opts.sealWorkers > 0 && entry.localPath !== undefined && (node.size ?? Infinity) < this.chunker.options.minSize) {
      return this.storeSmall(entry, parent, frame)
    }
    return this.limit(async () => {
      try {
        return await this.readCounted(entry, parent, frame)
      } finally {
        this.caughtUp()
      }
    })
  }

  /** Stores a small local file through the seal workers (no place in the readers' queue). */
  private async storeSmall(entry: ReadSourceEntry, parent: Node | undefined, frame: Frame): Promise<Node | undefined> {
    this.smallInFlight++
    try {
      const packer = this.dataPackerMade ?? (await this.dataPacker())
      if (!this.pool?.canStoreFiles) return await this.limit(() => this.readCounted(entry, parent, frame))
      let r: StoredFile
      try {
        r = await packer.storeFile(entry.localPath!, entry.node.size ?? 0)
      } catch (e) {
        return this.readFailed(entry, e)
      }
      this.ctx.progress?.inc(r.size)
      const node = entry.node
      node.content = r.content
      node.size = r.size
      return this.counted(node, parent, frame)
    } finally {
      this.smallInFlight--
      this.caughtUp()
    }
  }

  /** Wakes the walk once the readers have caught up with it. */
  private caughtUp(): void {
    if (this.wake && this.limit.pendingCount <= READS_AHEAD / 4 && this.smallInFlight <= SMALL_FILES_AHEAD / 2) {
      const wake = this.wake
      this.wake = undefined
      wake()
    }
  }

  /** Reads a file and counts it; a file that cannot be read is skipped (undefined). */
  private async readCounted(entry: ReadSourceEntry, parent: Node | undefined, frame: Frame): Promise<Node | undefined> {
    let file: Node
    try {
      throwIfAborted(this.ctx.signal)
      file = await this.readFile(entry, parent)
    } catch (e) {
      return this.readFailed(entry, e)
    }
    return this.counted(file, parent, frame)
  }

  /** A file could not be read: skipped and reported, unless the error ends the backup (thrown). */
  private readFailed(entry: ReadSourceEntry, e: unknown): undefined {
    if (isRusticError(e) && (e.code === 'Aborted' || e.kind === 'Backend' || e.kind === 'Cryptography' || e.kind === 'Internal')) throw e
    this.skip(entry.path, e)
    return undefined
  }

  /** Counts a file node of `frame` in the statistics and returns it. */
  private counted(file: Node, parent: Node | undefined, frame: Frame): Node {
    const state = this.classify(file, parent)
    this.stats.count('file', state)
    if (state === 'unmodified') frame.same++
    this.stats.totalFilesProcessed++
    this.stats.totalBytesProcessed += file.size ?? 0
    return file
  }

  /** New, changed or unmodified compared with the parent snapshot's node (restic compares whole nodes). */
  private classify(node: Node, parent: Node | undefined): 'new' | 'changed' | 'unmodified' {
    if (!parent) return 'new'
    return this.sameAsParent(node, parent) ? 'unmodified' : 'changed'
  }

  /** True if `node` serializes as `parent` does (its text, when written for the comparison, is kept for its tree). */
  private sameAsParent(node: Node, parent: Node): boolean {
    const same = sameSerializedNode(node, parent)
    if (same !== undefined) return same
    const text = serializeNode(node)
    this.serialized.set(node, text)
    return text === serializeNode(parent)
  }

  /** The parent's content ids when the file is unchanged (restic's rules) and all its blobs are indexed. */
  private reuseParentContent(node: Node, parent: Node | undefined): Id[] | undefined {
    if (this.opts.force || !parent || parent.type !== 'file' || !parent.content) return undefined
    if (parent.size !== node.size || parent.mtime !== node.mtime) return undefined
    if (!this.opts.ignoreCtime && parent.ctime !== node.ctime) return undefined
    if (!this.opts.ignoreInode && parent.inode !== node.inode) return undefined
    const index = this.indexed.index
    if (!parent.content.every((id) => index.has('data', id) || this.dataPackerMade?.has(id))) return undefined
    return parent.content
  }

  private async readFile(entry: ReadSourceEntry, parent: Node | undefined): Promise<Node> {
    const dataPacker = await this.dataPacker()
    if (this.pool?.canStoreFiles && entry.localPath !== undefined) {
      // A local file: a worker reads, cuts, hashes and seals it; only its chunk ids come here.
      // with its chunks in the parent snapshot: an appended or partly rewritten file keeps most of them
      const r = await dataPacker.storeFile(entry.localPath, entry.node.size ?? 0, parent?.type === 'file' ? (parent.content ?? undefined) : undefined)
      this.ctx.progress?.inc(r.size)
      const node = entry.node
      node.content = r.content
      node.size = r.size
      return node
    }
    if (!entry.open) throw new RusticError('Internal', `no content opener for file ${entry.path}`, { code: 'NoOpener' })
    const content: Id[] = []
    let size = 0
    for await (const chunk of this.chunker.chunks(await entry.open())) {
      throwIfAborted(this.ctx.signal)
      const id = hashId(chunk)
      await dataPacker.add(id, chunk)
      content.push(id)
      size += chunk.length
      this.ctx.progress?.inc(chunk.length)
    }
    const node = entry.node
    node.content = content
    node.size = size
    return node
  }

  private skip(path: string, error: unknown): void {
    const msg = error instanceof Error ? error.message : String(error)
    this.stats.skipped.push({ path, error: msg })
    this.ctx.onWarning?.(`skipped ${path}: ${msg}`, error)
  }
}


