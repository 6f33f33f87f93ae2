import { z } from 'zod'
import type { CallOptions } from '../backend/Backend.js'
import { verifyId } from '../backend/DecryptBackend.js'
import { isRusticError, RusticError, throwIfAborted } from '../error/RusticError.js'
import { findIdByPrefix, shortId, type Id } from '../id/Id.js'
import { BlobIndex, type BlobLocation } from '../index/BlobIndex.js'
import { BlobsInFlight } from '../index/BlobsInFlight.js'
import type { Control } from '../progress/Control.js'
import { parseTree, type BlobType, type Node, type SnapshotFile } from '../repofile/index.js'
import { LruCache } from '../util/LruCache.js'
import { parseOptions } from '../util/parseOptions.js'
import type { ReadSource } from '../archiver/ReadSource.js'
import { backup, type BackupOptions, type BackupResult } from '../commands/backup/backup.js'
import { diff, type DiffOptions, type DiffResult } from '../commands/diff.js'
import { dump, type DumpOptions } from '../commands/dump.js'
import { find, type FindOptions, type FindResult } from '../commands/find.js'
import { ls, type LsOptions } from '../commands/ls.js'
import { planRepairSnapshots, type RepairSnapshotsOptions, type RepairSnapshotsPlan } from '../commands/repair/planRepairSnapshots.js'
import { repairSnapshots, type RepairSnapshotsResult } from '../commands/repair/repairSnapshots.js'
import { restore } from '../commands/restore/executeRestore.js'
import { planRestore } from '../commands/restore/planRestore.js'
import type { RestoreOptions } from '../commands/restore/RestoreOptions.js'
import type { RestorePlan, RestoreStats } from '../commands/restore/RestorePlan.js'
import type { RestoreWorkers } from '../commands/restore/RestoreWorkers.js'
import { planCopy, type CopyOptions, type CopyPlan } from '../commands/copy/planCopy.js'
import { copy, type CopyResult } from '../commands/copy/copy.js'
import { mergeSnapshots, type MergeOptions, type MergeResult } from '../commands/merge/mergeSnapshots.js'
import { stats, type StatsOptions, type StatsResult } from '../commands/stats/stats.js'
import { indexFilesGone, loadIndexFiles } from './loadIndexFiles.js'
import type { Repository } from './Repository.js'
import type { SnapshotFilter } from './SnapshotFilter.js'
import { rootNode } from './rootNode.js'

/** One entry of a tree walk. */
export interface WalkEntry {
  /** Absolute path inside the snapshot, `/`-separated (e.g. `/home/me/a.txt`). */
  path: string
  /** The node. */
  node: Node
}

/** Options of {@link IndexedRepository.walk}, with defaults. */
export const WalkOptionsSchema = z.object({
  /** Descend into subdirectories. */
  recursive: z.boolean().default(true),
  /** Return false to skip a directory's contents (the directory itself is still yielded). */
  enter: z.custom<(entry: WalkEntry) => boolean>((v) => typeof v === 'function').optional(),
  /**
   * Keep the trees read in the repository's tree cache (default), for walks that meet the same trees again
   * (several snapshots of the same data). `false` for one pass over a large tree (`ls`): each tree is then
   * dropped once walked, so memory does not grow with the number of entries.
   */
  cacheTrees: z.boolean().default(true),
})

/** Options of {@link IndexedRepository.walk}; see {@link WalkOptionsSchema}. */
export type WalkOptions = z.input<typeof WalkOptionsSchema>

/** Options of {@link IndexedRepository.readFile}, with defaults. */
export const ReadFileOptionsSchema = z.object({
  /** Blobs read ahead of the one being yielded. */
  readAhead: z.number().int().positive().default(4),
})

/** Options of {@link IndexedRepository.readFile}; see {@link ReadFileOptionsSchema}. */
export type ReadFileOptions = z.input<typeof ReadFileOptionsSchema>

/**
 * A repository with its index loaded (rustic_core's `Repository<Indexed>`): blob, tree and file access
 * and the commands that read or write blobs, each `method(subjects..., options?, control?)`. Made by
 * {@link Repository.toIndexed}; the snapshot and key methods stay on the {@link Repository}.
 */
export class IndexedRepository {
  /** @internal The open repository. */
  readonly repo: Repository
  /** @internal The in-memory index. */
  readonly index: BlobIndex
  readonly #trees = new LruCache<Id, Node[]>(4096)
  /** Blob areas of tree packs read whole: a walk reads many trees of the same few packs. */
  readonly #treePacks = new LruCache<Id, Promise<Uint8Array>>(TREE_PACK_CACHE_BYTES / TREE_PACK_MAX_BYTES)
  /** @internal New blobs the backups running on this object are storing: concurrent backups store each once. */
  readonly blobsInFlight: BlobsInFlight

  /** The index files `index` was loaded from. */
  #loadedIndexIds: ReadonlySet<Id>
  #generation = 0

  private constructor(repo: Repository, index: BlobIndex, loadedIndexIds: ReadonlySet<Id>) {
    this.repo = repo
    this.index = index
    this.blobsInFlight = new BlobsInFlight(index)
    this.#loadedIndexIds = loadedIndexIds
  }

  /** @internal Loads all index files of `repo` (use {@link Repository.toIndexed}). */
  static async load(repo: Repository, control: Control = {}): Promise<IndexedRepository> {
    const { signal, progress } = repo.control(control)
    const index = new BlobIndex()
    return new IndexedRepository(repo, index, await loadIndexFiles(repo, index, { signal, progress }))
  }

  /**
   * Loads the index again when an index file it was loaded from is gone: another client (restic
   * prune, rebuild-index) rewrote the index, and packs it named may be gone too. Backup calls it once
   * its lock is held, so that it never deduplicates against blobs pruned since the index was loaded.
   * @returns true if the index was loaded again.
   */
  async reloadIndexIfChanged(control: Control = {}): Promise<boolean> {
    const { signal, progress } = this.repo.control(control)
    const ids = await this.repo.backend.list('index', { signal })
    if (!indexFilesGone(this.#loadedIndexIds, ids)) return false
    this.#generation++
    this.index.clear()
    this.#loadedIndexIds = await loadIndexFiles(this.repo, this.index, { signal, progress }, ids)
    return true
  }

  /** @internal Counts the times the index was loaded again: work that used it before is stale when this changed. */
  get indexGeneration(): number {
    return this.#generation
  }

  /**
   * @internal True when an index file the index was loaded from is gone (what makes
   * {@link IndexedRepository.reloadIndexIfChanged} load it again), without loading anything.
   */
  async indexChanged(control: Control = {}): Promise<boolean> {
    const ids = await this.repo.backend.list('index', { signal: control.signal })
    return indexFilesGone(this.#loadedIndexIds, ids)
  }

  /** @internal The location of a blob; throws `BlobNotFound` if it is not indexed. */
  locate(type: BlobType, id: Id): BlobLocation {
    const loc = this.index.get(type, id)
    if (!loc) {
      throw new RusticError('Repository', `${type} blob ${id} is not in the index: the repository is damaged (run check)`, {
        code: 'BlobNotFound',
      })
    }
    return loc
  }

  /** Reads, decrypts, decompresses and verifies one blob. */
  async getBlob(type: BlobType, id: Id, control: Control = {}): Promise<Uint8Array> {
    const options: CallOptions = { signal: control.signal }
    const loc = this.locate(type, id)
    const what = `${type} blob ${id} in pack ${loc.packId} at offset ${loc.offset}`
    const plain = type === 'tree'
      ? await this.#readTreeBlob(loc, what, options)
      : await this.repo.dbe.readEncryptedPartial('pack', loc.packId, false, loc.offset, loc.length, loc.uncompressedLength, options, what)
    try {
      verifyId(plain, 'pack', id)
    } catch (e) {
      throw new RusticError('Verification', `${type} blob ${id} in pack ${loc.packId} is corrupted: its content does not hash to its id`, {
        code: 'IntegrityError',
        cause: e,
      })
    }
    return plain
  }

  /** A tree blob, from its pack's blob area read whole once (when small enough) and kept for a while; `what` names it in errors. */
  async #readTreeBlob(loc: BlobLocation, what: string, options?: CallOptions): Promise<Uint8Array> {
    const extent = this.index.packExtent(loc.packId) ?? 0
    const dbe = this.repo.dbe
    if (extent > TREE_PACK_MAX_BYTES) {
      return dbe.readEncryptedPartial('pack', loc.packId, true, loc.offset, loc.length, loc.uncompressedLength, options, what)
    }
    let area = this.#treePacks.get(loc.packId)
    if (!area) {
      area = dbe.backend.readPartial('pack', loc.packId, true, 0, extent, options)
      area.catch(() => this.#treePacks.delete(loc.packId))
      this.#treePacks.set(loc.packId, area)
    }
    const bytes = await area
    return dbe.openBlob(bytes.subarray(loc.offset, loc.offset + loc.length), loc.uncompressedLength, what)
  }

  /** Reads and parses a tree (cached). */
  async getTree(id: Id, control: Control = {}): Promise<Node[]> {
    return this.#getTree(id, control, true)
  }

  /** {@link IndexedRepository.getTree}, keeping a tree read here in the cache only with `cache`. */
  async #getTree(id: Id, control: Control, cache: boolean): Promise<Node[]> {
    this.repo.assertOpen()
    const cached = this.#trees.get(id)
    if (cached) return cached
    const nodes = parseTree(await this.getBlob('tree', id, control), `tree ${id}`)
    if (cache) this.#trees.set(id, nodes)
    return nodes
  }

  /**
   * The node at `path` (`/`-separated, relative to the tree) below tree `treeId`.
   * The root (`''` or `/`) is returned as a synthetic directory node whose subtree is `treeId`.
   */
  async nodeAtPath(treeId: Id, path: string, control: Control = {}): Promise<Node> {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.')
    let node: Node = rootNode(treeId)
    let walked = ''
    for (const part of parts) {
      if (node.type !== 'dir' || !node.subtree) {
        throw new RusticError('InvalidInput', `${walked || '/'} is not a directory`, { code: 'PathNotFound' })
      }
      const nodes = await this.getTree(node.subtree, control)
      const next = nodes.find((n) => n.name === part)
      walked += `/${part}`
      if (!next) {
        const full = `/${parts.join('/')}`
        const where = walked === full ? '' : `: ${walked} does not exist`
        throw new RusticError('InvalidInput', `path ${full} not found in the snapshot${where}`, { code: 'PathNotFound' })
      }
      node = next
    }
    return node
  }

  /** Resolves `SNAP[:PATH]` (snapshot as for {@link Repository.findSnapshot}) to the snapshot and the node at the path. */
  async resolveSnapshotPath(
    spec: string,
    filter: SnapshotFilter = {},
    control: Control = {},
  ): Promise<{ snapshot: SnapshotFile; path: string; node: Node }> {
    const colon = spec.indexOf(':')
    const snapSpec = colon < 0 ? spec : spec.slice(0, colon)
    const path = colon < 0 ? '' : spec.slice(colon + 1)
    const snapshot = await this.repo.findSnapshot(snapSpec, filter, control)
    const node = await this.nodeAtPath(snapshot.tree, path, control).catch((e: unknown) => {
      // name the snapshot the path was looked up in (`latest` may not be the one the user thinks)
      if (!isRusticError(e, 'PathNotFound')) throw e
      throw new RusticError('InvalidInput', e.message.replace(' the snapshot', ` snapshot ${shortId(snapshot.id!)}`), { code: 'PathNotFound' })
    })
    const clean = '/' + path.split('/').filter((p) => p !== '' && p !== '.').join('/')
    return { snapshot, path: clean === '/' ? '' : clean, node }
  }

  /**
   * Walks the tree below a directory node depth-first in name order, yielding every entry
   * (not the starting node itself) with its absolute path.
   * @param path - the node's path (`''` for a snapshot's root); entries' paths continue it.
   */
  async *walk(node: Node, path: string, options: WalkOptions = {}, control: Control = {}): AsyncGenerator<WalkEntry> {
    yield* this.#walk(node, path, parseOptions(WalkOptionsSchema, options, 'walk options'), control.signal)
  }

  async *#walk(start: Node, basePath: string, opts: z.output<typeof WalkOptionsSchema>, signal: AbortSignal | undefined): AsyncGenerator<WalkEntry> {
    if (start.type !== 'dir' || !start.subtree) return
    const nodes = await this.#getTree(start.subtree, { signal }, opts.cacheTrees)
    for (const node of nodes) {
      throwIfAborted(signal)
      const entry = { path: `${basePath}/${node.name}`, node }
      yield entry
      if (opts.recursive && node.type === 'dir' && (opts.enter?.(entry) ?? true)) {
        yield* this.#walk(node, entry.path, opts, signal)
      }
    }
  }

  /** Works out how `repair snapshots` would repair the selected snapshots, writing nothing. */
  planRepairSnapshots(options: RepairSnapshotsOptions = {}, control: Control = {}): Promise<RepairSnapshotsPlan> {
    return planRepairSnapshots(this, options, control)
  }

  /** Carries out a plan of {@link IndexedRepository.planRepairSnapshots}. */
  repairSnapshots(plan: RepairSnapshotsPlan, control: Control = {}): Promise<RepairSnapshotsResult> {
    return this.repo.withLock(
      'exclusive',
      async (lock) => {
        await this.reloadIndexIfChanged({ ...control, signal: lock.signal })
        return repairSnapshots(this, plan, { ...control, signal: lock.signal })
      },
      control,
    )
  }

  /** Streams a file's content blob by blob, reading up to `readAhead` blobs ahead. */
  async *readFile(node: Node, options: ReadFileOptions = {}, control: Control = {}): AsyncGenerator<Uint8Array> {
    const { readAhead } = parseOptions(ReadFileOptionsSchema, options, 'read options')
    if (node.type !== 'file') throw new RusticError('InvalidInput', `${node.name} is not a file`, { code: 'NotAFile' })
    const content = node.content ?? []
    const inflight: Array<Promise<Uint8Array>> = []
    let next = 0
    const fill = (): void => {
      while (next < content.length && inflight.length < readAhead) {
        const p = this.getBlob('data', content[next++]!, control)
        p.catch(() => {}) // surfaced when awaited below
        inflight.push(p)
      }
    }
    fill()
    while (inflight.length > 0) {
      const data = await inflight.shift()!
      fill()
      yield data
    }
  }

  /**
   * A blob's plaintext, as restic's `cat blob` prints it: `id` is a full id or a unique prefix of a
   * data or tree blob. Holds a shared lock.
   */
  async catBlob(id: string, control: Control = {}): Promise<Uint8Array> {
    return this.#shared(control, (signal) => {
      const candidates = [...this.index.entries('data'), ...this.index.entries('tree')].map(([i]) => i)
      const full = findIdByPrefix(candidates, id, 'blob')
      return this.getBlob(this.index.has('tree', full) ? 'tree' : 'data', full, { signal })
    })
  }

  /**
   * The tree blob of a snapshot directory, `SNAP[:PATH]` as for {@link IndexedRepository.resolveSnapshotPath}
   * (rustic's `cat tree`); fails with `NotADirectory` for anything but a directory. Holds a shared lock.
   */
  async catTree(spec: string, filter: SnapshotFilter = {}, control: Control = {}): Promise<Uint8Array> {
    return this.#shared(control, async (signal) => {
      const { node, path } = await this.resolveSnapshotPath(spec, filter, { signal })
      if (node.type !== 'dir' || !node.subtree) {
        throw new RusticError('InvalidInput', `${path || '/'} is not a directory`, { code: 'NotADirectory' })
      }
      return this.getBlob('tree', node.subtree, { signal })
    })
  }

  /**
   * Backs up local paths, or a custom {@link ReadSource}, into a new snapshot (restic's `backup`).
   * Writes packs, then index files, then the snapshot, so an interrupted backup leaves a valid
   * repository whose uploaded packs the next run reuses.
   * @param source - local files and directories, or a source of entries (its snapshot paths come
   *   from `options.snapshotPaths`, else from the source's `snapshotPaths()`).
   * @param options - parent selection, excludes (`local`), compression, dry run and the new
   *   snapshot's metadata (`tags`, `label`, `host`, ...).
   */
  backup(source: string | readonly string[] | ReadSource, options: BackupOptions = {}, control: Control = {}): Promise<BackupResult> {
    return backup(this, source, options, control)
  }

  /**
   * Works out what restoring `node` (a directory: its contents; anything else: that one entry) into
   * `target` will do, without writing anything (restic's `restore --dry-run`); carry the plan out with
   * {@link IndexedRepository.restore}. The plan keeps `options`. Holds a shared lock; to keep other
   * clients' prunes out between planning and restoring, run both in one `repo.withLock('shared', ...)`.
   * @param target - the directory to restore into (created if missing); for a non-directory node, a
   *   directory to put it in or the path to restore it as.
   */
  planRestore(node: Node, target: string, options: RestoreOptions = {}, control: Control = {}): Promise<RestorePlan> {
    return this.#shared(control, (signal) => planRestore(this, node, target, options, { ...control, signal }))
  }

  /**
   * Carries out a plan of {@link IndexedRepository.planRestore} (with the options it was made with),
   * reading each pack at most once. An aborted restore is finished by planning and restoring again.
   * Holds a shared lock, as restic's `restore` does. `workers`: restore's worker threads started ahead of the
   * plan ({@link RestoreWorkers.start}), so that their start-up overlaps the planning; restore ends them.
   */
  restore(plan: RestorePlan, control: Control = {}, workers?: RestoreWorkers): Promise<RestoreStats> {
    return this.#shared(control, (signal) => restore(this, plan, { ...control, signal }, workers)).finally(() => workers?.close())
  }

  /**
   * Lists the entries below `node` (as {@link IndexedRepository.resolveSnapshotPath} gives it), depth-first
   * in name order with absolute paths (restic's `ls`); a non-directory node lists itself.
   */
  ls(node: Node, path: string, options: LsOptions = {}, control: Control = {}): AsyncGenerator<WalkEntry> {
    return ls(this, node, path, options, control)
  }

  /**
   * Searches snapshots, newest first, for entries whose path matches one of `patterns` (restic's
   * `find`); yields one result per snapshot with at least one match. Holds a shared lock while it runs.
   */
  find(patterns: readonly string[], options: FindOptions = {}, control: Control = {}): AsyncGenerator<FindResult> {
    return this.#sharedWhileIterating(control, (signal) => find(this, patterns, options, { ...control, signal }))
  }

  /** Compares two snapshot directories as restic's `diff` does, under a shared lock. */
  diff(left: Node, right: Node, options: DiffOptions = {}, control: Control = {}): Promise<DiffResult> {
    return this.#shared(control, (signal) => diff(this, left, right, options, { ...control, signal }))
  }

  /**
   * The content of a snapshot entry as bytes (restic's `dump`): a file's content, or a directory as a
   * tar stream. Holds a shared lock while it is read.
   * @param path - the node's path in the snapshot (from {@link IndexedRepository.resolveSnapshotPath}).
   */
  dump(node: Node, path: string, options: DumpOptions = {}, control: Control = {}): AsyncIterable<Uint8Array> {
    dump(this, node, path, options, control) // fails here, before any lock, on bad options or a node it cannot dump
    return this.#sharedWhileIterating(control, (signal) => dump(this, node, path, options, { ...control, signal }))
  }

  /**
   * Selects the snapshots to copy into `target` (another repository, with its own key and chunker
   * polynomial) and finds those it has already (restic's and rustic's `copy`, first step). Writes
   * nothing; holds shared locks on both repositories. Carry the plan out with {@link IndexedRepository.copy}.
   */
  planCopy(target: IndexedRepository, options: CopyOptions = {}, control: Control = {}): Promise<CopyPlan> {
    return planCopy(this, target, options, control)
  }

  /**
   * Copies the snapshots of a {@link IndexedRepository.planCopy} plan from this repository into its
   * target: the blobs the target lacks, then index files, then the snapshots. Holds shared locks on both.
   */
  copy(plan: CopyPlan, control: Control = {}): Promise<CopyResult> {
    return copy(this, plan, control)
  }

  /**
   * Merges snapshots into a new one (rustic's `merge`): trees merged, the entry modified last winning.
   * Holds a shared lock (the exclusive one with `options.delete`).
   */
  mergeSnapshots(snapshots: readonly SnapshotFile[], options: MergeOptions = {}, control: Control = {}): Promise<MergeResult> {
    return mergeSnapshots(this, snapshots, options, control)
  }

  /** restic's `stats` in any of its counting modes, for the selected snapshots. Holds a shared lock. */
  stats(options: StatsOptions = {}, control: Control = {}): Promise<StatsResult> {
    return stats(this, options, control)
  }

  /**
   * Runs `fn` under the repository's shared lock (shared with a lock this repository already holds). Once
   * the lock is held, the index is loaded again if another client rewrote it since it was loaded (a prune
   * between `toIndexed` and the lock), so that `fn` reads no pack that is gone.
   */
  async #shared<T>(control: Control, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.repo.withLock(
      'shared',
      async (lock) => {
        await this.#reloadUnderLock(control, lock.signal)
        return fn(lock.signal)
      },
      control,
    )
  }

  /** {@link IndexedRepository.#shared} for a stream: the lock is taken at its first read and released at its end. */
  async *#sharedWhileIterating<T>(control: Control, items: (signal: AbortSignal) => AsyncIterable<T>): AsyncGenerator<T> {
    const lock = await this.repo.lock('shared', control)
    try {
      await this.#reloadUnderLock(control, lock.signal)
      yield* items(lock.signal)
    } catch (e) {
      throw lock.lostError ?? e
    } finally {
      await lock.release()
    }
  }

  async #reloadUnderLock(control: Control, signal: AbortSignal): Promise<void> {
    if (this.repo.options.lock) await this.reloadIndexIfChanged({ ...control, signal })
  }
}

/** Tree packs up to this size are read whole when one of their trees is needed. */
const TREE_PACK_MAX_BYTES = 16 * 1024 * 1024
/** Memory for tree packs read whole. */
const TREE_PACK_CACHE_BYTES = 64 * 1024 * 1024
