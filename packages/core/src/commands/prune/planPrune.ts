import { streamIndexFiles, streamSnapshotFiles } from '../../backend/streamRepoFiles.js'
import { PackSizer } from '../../blob/PackSizer.js'
import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import { formatLocalGoTime, type BlobType, type IndexFile } from '../../repofile/index.js'
import { refuseAppendOnly } from '../../repository/refuseAppendOnly.js'
import type { Repository } from '../../repository/Repository.js'
import { walkTrees } from '../walkTrees.js'
import { decidePacks, indexPackSize, type UsedBlobs } from './decidePacks.js'
import type { PrunePlan } from './PrunePlan.js'
import { parsePruneOptions, type PruneOptions, type ResolvedPruneOptions } from './PruneOptions.js'
import { treeLocations, treeReader } from './treeReader.js'

/**
 * Plans a prune (rustic's `PrunePlan::from_prune_options`): reads every index file and snapshot, finds
 * the blobs the snapshots need by walking their trees, lists the pack files, and decides for each pack
 * whether it is kept, repacked, marked for deletion, deleted or recovered (see `decidePacks`).
 * Changes nothing. Holds an exclusive lock meanwhile unless `ignoreLocks` (or the repository was opened
 * with `lock: false`), so it fails at once with `RepositoryLocked`, naming the lock, while another
 * client (a running `restic backup`, say) holds one.
 * @throws RusticError `InvalidOptions`; `Unsupported` for `repackUncompressed` without compression;
 * `AppendOnly` (unless `dryRun`); `RepositoryLocked`; `BlobNotFound`, `PackNotFound`,
 * `PackSizeMismatch` for a damaged repository; `Aborted`.
 */
export async function planPrune(repo: Repository, options?: PruneOptions, control: Control = {}): Promise<PrunePlan> {
  const opts = parsePruneOptions(options)
  if (opts.repackUncompressed && repo.config.version < 2) {
    throw new RusticError('Unsupported', 'repackUncompressed needs a version 2 repository (version 1 stores everything uncompressed)', {
      code: 'Unsupported',
    })
  }
  if (opts.repackUncompressed && repo.dbe.compressionLevel === undefined) {
    throw new RusticError('Unsupported', 'repackUncompressed cannot compress: compression is off for this repository', { code: 'Unsupported' })
  }
  if (!opts.dryRun) refuseAppendOnly(repo.config, 'prune')
  if (opts.ignoreLocks) return makePlan(repo, opts, control)
  return repo.withLock('exclusive', (lock) => makePlan(repo, opts, { ...control, signal: lock.signal }), control)
}

async function makePlan(repo: Repository, opts: ResolvedPruneOptions, control: Control): Promise<PrunePlan> {
  const { signal, progress } = repo.control(control)
  const now = opts.now?.getTime() ?? Date.now()
  const concurrency = repo.options.concurrency

  const indexIds = (await repo.backend.list('index', { signal })).sort()
  const indexFiles: Array<{ id: Id; file: IndexFile }> = []
  const pIndex = progress('counter', 'reading index')
  pIndex.setLength(indexIds.length)
  for await (const f of streamIndexFiles(repo.dbe, {
    ids: indexIds,
    concurrency,
    signal,
  })) {
    indexFiles.push(f)
    pIndex.inc(1)
  }
  pIndex.finish()
  indexFiles.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

  const ignored = new Set(opts.ignoreSnapshots)
  const snapshots = (await repo.snapshotIds({ signal })).filter((id) => !ignored.has(id)).sort()
  const roots: Id[] = []
  const pSnap = progress('counter', 'reading snapshots')
  pSnap.setLength(snapshots.length)
  for await (const { tree } of streamSnapshotFiles(repo.dbe, {
    ids: snapshots,
    concurrency,
    signal,
  })) {
    roots.push(tree)
    pSnap.inc(1)
  }
  pSnap.finish()

  const pTrees = progress('spinner', 'finding used blobs')
  // every blob the snapshots need, each with counter 0; trees are read from marked packs too
  const used: UsedBlobs = { data: new Map(), tree: new Map() }
  await walkTrees(
    treeReader(repo.dbe, treeLocations(indexFiles)),
    roots,
    (id, nodes) => {
      used.tree.set(id, 0)
      for (const node of nodes) if (node.type === 'file') for (const c of node.content ?? []) used.data.set(c, 0)
    },
    { concurrency: Math.max(8, concurrency), signal, progress: pTrees },
  )
  pTrees.finish()

  const pPacks = progress('spinner', 'listing packs')
  const existing = new Map(await repo.backend.listWithSize('pack', { signal }))
  pPacks.finish()

  const decision = decidePacks({ indexFiles, used, existing, options: opts, now, sizers: packSizers(repo, indexFiles, opts) })
  return {
    time: formatLocalGoTime(BigInt(now) * 1_000_000n),
    options: opts,
    snapshots,
    indexFiles: indexFiles.map((f) => f.id),
    rewriteIndexFiles: decision.rewriteIndexFiles,
    packs: decision.packs,
    stats: decision.stats,
  }
}

/** The repository's pack sizers, grown by the current size of its packs of each type. */
function packSizers(repo: Repository, indexFiles: Array<{ file: IndexFile }>, opts: ResolvedPruneOptions): Record<BlobType, PackSizer> {
  const total: Record<BlobType, number> = { data: 0, tree: 0 }
  for (const { file } of indexFiles) for (const p of file.packs) total[p.blobs[0]?.type ?? 'data'] += indexPackSize(p)
  const minPercent = opts.repackSmall ? Math.max(80, repo.config.minPacksizeToleratePercent ?? 0) : undefined
  const sizer = (type: BlobType): PackSizer => PackSizer.forType(repo.config, type, total[type], minPercent === undefined ? {} : { minPercent })
  return { data: sizer('data'), tree: sizer('tree') }
}
