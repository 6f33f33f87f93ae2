import type { WriteBackend } from '../../backend/Backend.js'
import { isBackendError, isNotFound } from '../../backend/BackendError.js'
import { Indexer } from '../../index/Indexer.js'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import { randomId, shortId, type Id } from '../../id/Id.js'
import type { Control } from '../../progress/Control.js'
import { PACK_ENTRY_SIZE_COMPRESSED, type BlobType, type IndexPack } from '../../repofile/index.js'
import { refuseAppendOnly } from '../../repository/refuseAppendOnly.js'
import type { Repository } from '../../repository/Repository.js'
import { repackBlobs } from './repackBlobs.js'
import type { PrunePack, PrunePlan, PruneResult } from './PrunePlan.js'

/**
 * Carries out a prune plan (rustic's `prune_repository`), in an order that keeps the repository valid
 * whenever it stops:
 *
 * 1. checks the repository is as planned: under the exclusive lock, the same snapshots and index files;
 *    without locks (`ignoreLocks`, or `lock: false`), that the index files it replaces are still there;
 * 2. refuses an append-only repository (its config, or a backend that may not delete: a REST server in
 *    append-only mode) before writing anything;
 * 3. copies the needed blobs of repacked packs into new packs;
 * 4. writes new index files: kept and recovered packs, the new packs, and under `packs_to_delete` (with the
 *    plan's time) the packs marked for deletion, repacked packs and packs no index named;
 * 5. only then removes the index files it replaced, and then the packs to delete.
 *
 * With `dryRun` in the plan it changes nothing. A plan made with `instantDelete` removes unneeded and
 * repacked packs at once instead of marking them.
 * @throws RusticError `RepositoryChanged` when the repository changed since the plan; `AppendOnly`;
 * `RepositoryLocked` / `LockLost`; `IntegrityError` for a damaged blob being repacked; `Aborted`.
 */
export async function prune(repo: Repository, plan: PrunePlan, control: Control = {}): Promise<PruneResult> {
  const result: PruneResult = {
    dryRun: plan.options.dryRun,
    indexFilesWritten: [],
    indexFilesRemoved: [],
    packsMarked: 0,
    packsRecovered: 0,
    packsRemoved: 0,
    bytesRemoved: 0,
    blobsRepacked: 0,
    bytesRepacked: 0,
    packsWritten: 0,
  }
  if (plan.options.dryRun) return result
  refuseAppendOnly(repo.config, 'prune')
  if (plan.options.ignoreLocks || !repo.options.lock) return execute(repo, plan, control, result, false, async () => {})
  return repo.withLock('exclusive', (lock) => execute(repo, plan, { ...control, signal: lock.signal }, result, true, () => lock.verify()), control)
}

async function execute(
  repo: Repository,
  plan: PrunePlan,
  control: Control,
  result: PruneResult,
  locked: boolean,
  verifyLock: () => Promise<void>,
): Promise<PruneResult> {
  const { signal, progress } = repo.control(control)
  const backend = repo.backend
  await checkUnchanged(repo, plan, locked, signal)
  const removes =
    plan.rewriteIndexFiles.length > 0 || plan.packs.some((p) => p.action === 'delete' || (p.action === 'repack' && plan.options.instantDelete))
  if (removes) await refuseIfCannotDelete(backend, signal)

  const rewrite = new Set(plan.rewriteIndexFiles)
  const time = plan.time
  const indexer = new Indexer(repo.dbe, { signal })
  const toRemove: PrunePack[] = []
  const toRepack: PrunePack[] = []
  const entry = (p: PrunePack, t: string | undefined): IndexPack => {
    const e: IndexPack = { id: p.id, blobs: p.blobs }
    if (t !== undefined) e.time = t
    if (p.blobs.length === 0) e.size = p.size
    return e
  }
  for (const p of plan.packs) {
    throwIfAborted(signal)
    // packs of index files that stay are left as they are (the plan keeps them)
    if (p.indexFile !== undefined && !rewrite.has(p.indexFile)) continue
    switch (p.action) {
      case 'keep':
        await indexer.add(entry(p, p.time ?? time))
        break
      case 'recover':
        await indexer.add(entry(p, time))
        result.packsRecovered++
        break
      case 'repack':
        toRepack.push(p)
        if (plan.options.instantDelete) toRemove.push(p)
        else {
          await indexer.addToDelete(entry(p, time))
          result.packsMarked++
        }
        break
      case 'markDelete':
        await indexer.addToDelete(entry(p, time))
        result.packsMarked++
        break
      case 'keepMarked':
        await indexer.addToDelete(entry(p, p.time ?? time))
        break
      case 'delete':
        toRemove.push(p)
        break
    }
  }

  if (toRepack.length > 0) {
    await repo.warmUpPacks(
      toRepack.map((p) => p.id),
      { signal },
    )
    const bar = progress('bytes', 'repacking')
    bar.setLength(toRepack.reduce((n, p) => n + (p.copy ?? []).reduce((m, b) => m + b.length, 0), 0))
    try {
      const r = await repackBlobs(repo, toRepack, indexer, {
        sizeAfter: sizeAfter(plan),
        recompress: plan.options.repackUncompressed,
        verify: !plan.options.fastRepack,
        signal,
        progress: bar,
      })
      result.blobsRepacked = r.blobs
      result.bytesRepacked = r.bytes
      result.packsWritten = r.packs
    } finally {
      bar.finish()
    }
  }
  result.indexFilesWritten = await indexer.finalize()

  // nothing is removed before the new index files are written, and only while the lock is held
  await verifyLock()
  const oldIndex = plan.rewriteIndexFiles
  const pIndex = progress('counter', 'removing old index files')
  pIndex.setLength(oldIndex.length)
  for (const id of oldIndex) {
    if (await removeFile(backend, 'index', id, true, signal)) result.indexFilesRemoved.push(id)
    pIndex.inc(1)
  }
  pIndex.finish()
  const pPacks = progress('counter', 'removing packs')
  pPacks.setLength(toRemove.length)
  // tree packs (cached, in the hot repository too) and packs of unknown type are removed as cacheable
  for (const p of toRemove) {
    if (await removeFile(backend, 'pack', p.id, p.blobType !== 'data', signal)) {
      result.packsRemoved++
      result.bytesRemoved += p.size
    }
    pPacks.inc(1)
  }
  pPacks.finish()
  return result
}

/** Removes a file; false if it was gone already. */
async function removeFile(backend: WriteBackend, type: 'index' | 'pack', id: Id, cacheable: boolean, signal: AbortSignal | undefined): Promise<boolean> {
  throwIfAborted(signal)
  try {
    await backend.remove(type, id, cacheable, { signal })
    return true
  } catch (e) {
    if (isNotFound(e)) return false
    throw e
  }
}

/**
 * Under the lock, the plan must still describe the repository: the same snapshots and index files.
 * Without locks, other clients may add files at any time (two-phase deletion covers those); the index
 * files the plan replaces must still exist (else another prune ran).
 */
async function checkUnchanged(repo: Repository, plan: PrunePlan, locked: boolean, signal: AbortSignal | undefined): Promise<void> {
  const index = new Set(await repo.backend.list('index', { signal }))
  const outdated = (why: string): RusticError =>
    new RusticError('Repository', `the prune plan is out of date: ${why} since it was made; nothing was changed. Plan again`, { code: 'RepositoryChanged' })
  const gone = plan.rewriteIndexFiles.find((id) => !index.has(id))
  if (gone !== undefined) throw outdated(`index ${shortId(gone)} was removed`)
  if (!locked) return
  const planned = new Set(plan.indexFiles)
  const added = [...index].find((id) => !planned.has(id))
  if (added !== undefined || index.size !== planned.size) {
    throw outdated(added !== undefined ? `index ${shortId(added)} was added` : 'index files were removed')
  }
  const ignored = new Set(plan.options.ignoreSnapshots)
  const snaps = (await repo.snapshotIds({ signal })).filter((id) => !ignored.has(id))
  const plannedSnaps = new Set(plan.snapshots)
  if (snaps.length !== plannedSnaps.size || snaps.some((id) => !plannedSnaps.has(id))) throw outdated('snapshots were added or removed')
}

/**
 * Refuses before anything is written when the backend may not delete files (a REST server in append-only
 * mode answers 403): asks it to remove an index file that does not exist. A backend that may delete
 * answers "not found" (or nothing).
 */
async function refuseIfCannotDelete(backend: WriteBackend, signal: AbortSignal | undefined): Promise<void> {
  try {
    await backend.remove('index', randomId(), false, { signal })
  } catch (e) {
    if (isBackendError(e, 'PermissionDenied')) {
      throw new RusticError(
        'AppendOnly',
        `cannot prune ${backend.location()}: it does not allow removing files (an append-only or read-only repository or server); nothing was changed`,
        { code: 'AppendOnly', cause: e },
      )
    }
    if (!isNotFound(e)) throw e
  }
}

/** The expected size of each type's packs after the prune (rustic's estimate: blob bytes kept, plus a header entry per blob). */
function sizeAfter(plan: PrunePlan): Record<BlobType, number> {
  const { blobs, bytes } = plan.stats
  const after = (t: BlobType): number => {
    const keptBytes = bytes[t].used + bytes[t].unused - bytes[t].remove - bytes[t].repackRemove
    const keptBlobs = blobs[t].used + blobs[t].unused - blobs[t].remove - blobs[t].repackRemove
    return keptBytes + keptBlobs * PACK_ENTRY_SIZE_COMPRESSED
  }
  return { data: after('data'), tree: after('tree') }
}
