import type { CallOptions } from '../backend/Backend.js'
import { verifyId } from '../backend/DecryptBackend.js'
import { RusticError, throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import { BlobIndex, type BlobLocation } from '../index/BlobIndex.js'
import { BlobsInFlight } from '../index/BlobsInFlight.js'
import { parseTree, type BlobType, type Node, type SnapshotFile } from '../repofile/index.js'
import { LruCache } from '../util/LruCache.js'
import { indexFilesGone, loadIndexFiles } from './loadIndexFiles.js'
import type { Repository } from './Repository.js'
import { backup, type BackupControl, type BackupOptions, type BackupResult } from '../commands/backup/backup.js'
import type { SnapshotOptions } from '../commands/backup/SnapshotOptions.js'
import type { Control } from '../commands/control.js'
import { planRepairSnapshots, type RepairSnapshotsOptions, type RepairSnapshotsPlan } from '../commands/repair/planRepairSnapshots.js'
import { repairSnapshots, type RepairSnapshotsResult } from '../commands/repair/repairSnapshots.js'

/** One entry of a tree walk. */
export interface WalkEntry {
  /** Absolute path inside the snapshot, `/`-separated (e.g. `/home/me/a.txt`). */
  path: string
  /** The node. */
  node: Node
}

/** Options for {@link IndexedRepository.walk}. */
export interface WalkOptions extends CallOptions {
  /** Descend into subdirectories (default true). */
  recursive?: boolean
  /** Return false to skip a directory's contents (the directory itself is still yielded). */
  enter?: (entry: WalkEntry) => boolean
}

/**
 * A repository with its index loaded (rustic_core's `Repository<Indexed>`): blob, tree and file access.
 */
export class IndexedRepository {
  private readonly trees = new LruCache<Id, Node[]>(4096)
  /** Blob areas of tree packs read whole: a walk reads many trees of the same few packs. */
  private readonly treePacks = new LruCache<Id, Promise<Uint8Array>>(TREE_PACK_CACHE_BYTES / TREE_PACK_MAX_BYTES)
  /** New blobs the backups running on this object are storing: concurrent backups store each once. */
  readonly blobsInFlight = new BlobsInFlight()

  private constructor(
    /** The open repository. */
    readonly repo: Repository,
    /** The in-memory index. */
    readonly index: BlobIndex,
    /** The index files `index` was loaded from. */
    private loadedIndexIds: ReadonlySet<Id>,
  ) {}

  /** Loads all index files of `repo`. */
  static async load(repo: Repository, options: CallOptions = {}): Promise<IndexedRepository> {
    const index = new BlobIndex()
    return new IndexedRepository(repo, index, await loadIndexFiles(repo, index, options))
  }

  /**
   * Loads the index again when an index file it was loaded from is gone: another client (restic
   * prune, rebuild-index) rewrote the index, and packs it named may be gone too. Backup calls it once
   * its lock is held, so that it never deduplicates against blobs pruned since the index was loaded.
   * @returns true if the index was loaded again.
   */
  async reloadIndexIfChanged(options: CallOptions = {}): Promise<boolean> {
    const ids = await this.repo.backend.list('index', options)
    if (!indexFilesGone(this.loadedIndexIds, ids)) return false
    this.index.clear()
    this.loadedIndexIds = await loadIndexFiles(this.repo, this.index, options, ids)
    return true
  }

  /** The location of a blob; throws `BlobNotFound` if it is not indexed. */
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
  async getBlob(type: BlobType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    const loc = this.locate(type, id)
    const plain = type === 'tree' ? await this.readTreeBlob(loc, options) : await this.repo.dbe.readEncryptedPartial(
      'pack',
      loc.packId,
      false,
      loc.offset,
      loc.length,
      loc.uncompressedLength,
      options,
    )
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

  /** A tree blob, from its pack's blob area read whole once (when small enough) and kept for a while. */
  private async readTreeBlob(loc: BlobLocation, options?: CallOptions): Promise<Uint8Array> {
    const extent = this.index.packExtent(loc.packId) ?? 0
    const dbe = this.repo.dbe
    if (extent > TREE_PACK_MAX_BYTES) {
      return dbe.readEncryptedPartial('pack', loc.packId, true, loc.offset, loc.length, loc.uncompressedLength, options)
    }
    let area = this.treePacks.get(loc.packId)
    if (!area) {
      area = dbe.backend.readPartial('pack', loc.packId, true, 0, extent, options)
      area.catch(() => this.treePacks.delete(loc.packId))
      this.treePacks.set(loc.packId, area)
    }
    const bytes = await area
    return dbe.openBlob(bytes.subarray(loc.offset, loc.offset + loc.length), loc.uncompressedLength, `pack ${loc.packId} at offset ${loc.offset}`)
  }

  /** Reads and parses a tree (cached). */
  async getTree(id: Id, options?: CallOptions): Promise<Node[]> {
    this.repo.assertOpen()
    const cached = this.trees.get(id)
    if (cached) return cached
    const nodes = parseTree(await this.getBlob('tree', id, options), `tree ${id}`)
    this.trees.set(id, nodes)
    return nodes
  }

  /**
   * The node at `path` (`/`-separated, relative to the tree) below tree `treeId`.
   * The root (`''` or `/`) is returned as a synthetic directory node whose subtree is `treeId`.
   */
  async nodeAtPath(treeId: Id, path: string, options?: CallOptions): Promise<Node> {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.')
    let node: Node = rootNode(treeId)
    let walked = ''
    for (const part of parts) {
      if (node.type !== 'dir' || !node.subtree) {
        throw new RusticError('InvalidInput', `${walked || '/'} is not a directory`, { code: 'PathNotFound' })
      }
      const nodes = await this.getTree(node.subtree, options)
      const next = nodes.find((n) => n.name === part)
      walked += `/${part}`
      if (!next) throw new RusticError('InvalidInput', `path ${walked} not found in the snapshot`, { code: 'PathNotFound' })
      node = next
    }
    return node
  }

  /** Resolves `SNAP[:PATH]` (snapshot as for {@link Repository.findSnapshot}) to the snapshot and the node at the path. */
  async resolveSnapshotPath(
    spec: string,
    filter: Parameters<Repository['findSnapshot']>[1] = {},
    options?: CallOptions,
  ): Promise<{ snapshot: SnapshotFile; path: string; node: Node }> {
    const colon = spec.indexOf(':')
    const snapSpec = colon < 0 ? spec : spec.slice(0, colon)
    const path = colon < 0 ? '' : spec.slice(colon + 1)
    const snapshot = await this.repo.findSnapshot(snapSpec, filter, options)
    const node = await this.nodeAtPath(snapshot.tree, path, options)
    const clean = '/' + path.split('/').filter((p) => p !== '' && p !== '.').join('/')
    return { snapshot, path: clean === '/' ? '' : clean, node }
  }

  /**
   * Walks the tree below a directory node depth-first in name order, yielding every entry
   * (not the starting node itself) with its absolute path.
   */
  async *walk(start: Node, basePath: string, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
    if (start.type !== 'dir' || !start.subtree) return
    const recursive = options.recursive ?? true
    const nodes = await this.getTree(start.subtree, options)
    for (const node of nodes) {
      throwIfAborted(options.signal)
      const entry = { path: `${basePath}/${node.name}`, node }
      yield entry
      if (recursive && node.type === 'dir' && (options.enter?.(entry) ?? true)) {
        yield* this.walk(node, entry.path, options)
      }
    }
  }

  /**
   * Backs up local paths or a custom source into a new snapshot; see {@link backup}.
   */
  backup(options: BackupOptions, snapshotOptions: SnapshotOptions = {}, control: BackupControl = {}): Promise<BackupResult> {
    return backup(this, options, snapshotOptions, control)
  }

  /** Works out how `repair snapshots` would repair the selected snapshots, writing nothing. */
  planRepairSnapshots(options?: RepairSnapshotsOptions, control?: Control): Promise<RepairSnapshotsPlan> {
    return planRepairSnapshots(this, options, control)
  }

  /** Carries out a plan of {@link IndexedRepository.planRepairSnapshots}. */
  repairSnapshots(plan: RepairSnapshotsPlan, control?: Control): Promise<RepairSnapshotsResult> {
    return this.repo.withLock('exclusive', control, async (lock) => {
      await this.reloadIndexIfChanged()
      return repairSnapshots(this, plan, { ...control, signal: lock.signal })
    })
  }

  /**
   * Streams a file's content blob by blob, reading up to `readAhead` blobs ahead.
   */
  async *readFile(node: Node, options: CallOptions & { readAhead?: number } = {}): AsyncGenerator<Uint8Array> {
    if (node.type !== 'file') throw new RusticError('InvalidInput', `${node.name} is not a file`, { code: 'NotAFile' })
    const content = node.content ?? []
    const ahead = Math.max(1, options.readAhead ?? 4)
    const inflight: Array<Promise<Uint8Array>> = []
    let next = 0
    const fill = (): void => {
      while (next < content.length && inflight.length < ahead) {
        const p = this.getBlob('data', content[next++]!, options)
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
}

/** Tree packs up to this size are read whole when one of their trees is needed. */
const TREE_PACK_MAX_BYTES = 16 * 1024 * 1024
/** Memory for tree packs read whole. */
const TREE_PACK_CACHE_BYTES = 64 * 1024 * 1024

/** A directory node standing for a snapshot's root tree. */
export function rootNode(treeId: Id): Node {
  return {
    name: '',
    type: 'dir',
    mode: 0o755,
    mtime: '',
    atime: '',
    ctime: '',
    uid: 0,
    gid: 0,
    content: null,
    subtree: treeId,
  }
}
