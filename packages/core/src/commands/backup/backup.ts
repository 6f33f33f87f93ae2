import { z } from 'zod'
import { Archiver } from '../../archiver/Archiver.js'
import type { SkippedEntry } from '../../archiver/BackupStats.js'
import type { ReadSource } from '../../archiver/ReadSource.js'
import { prestartDirectoryWorker } from '../../archiver/sources/DirectoryWorker.js'
import { existingPaths } from '../../archiver/sources/existingPaths.js'
import { LocalSource } from '../../archiver/sources/index.js'
import type { WriteBackend } from '../../backend/Backend.js'
import { DecryptBackend } from '../../backend/DecryptBackend.js'
import { DryRunBackend } from '../../backend/DryRunBackend.js'
import { GatedBackend } from '../../backend/GatedBackend.js'
import { compressionLevel } from '../../compression/index.js'
import { isRusticError, RusticError } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import { noProgress, type WarningHandler } from '../../progress/Progress.js'
import { nowGoTime, type SnapshotFile } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { adoptOrphanPacks } from './adoptOrphanPacks.js'
import { parseOptions } from '../../util/parseOptions.js'
import { BackupOptionsSchema, type BackupOptions } from './BackupOptions.js'
import { snapshotFromOptions } from './SnapshotOptions.js'

// the options are in a file of their own, so a program can check them (profiles) without loading the backup
export { BackupOptionsSchema, type BackupOptions } from './BackupOptions.js'

/** What a backup did. */
export interface BackupResult {
  /** The new snapshot (or the parent when `skipIfUnchanged` found nothing new; see `saved`). */
  snapshot: SnapshotFile
  /** False when no snapshot was written (dry run, or unchanged with `skipIfUnchanged`). */
  saved: boolean
  /** Entries that could not be read and were left out (local source paths that do not exist among them). */
  skipped: SkippedEntry[]
}

/** What is checked and made before the lock is taken: a backup with bad input writes nothing, not even a lock. */
interface Prepared {
  opts: z.output<typeof BackupOptionsSchema>
  /** The new snapshot, without tree and summary. */
  snap: SnapshotFile
  source: ReadSource
  /** Local source paths that do not exist. */
  missing: SkippedEntry[]
  /** True for local paths, which can be walked again (a custom source may be readable once only). */
  rereadable: boolean
}

/**
 * Backs up local paths (or a custom {@link ReadSource}) into a new snapshot. Writes packs, then index
 * files, then the snapshot, so an interrupted backup leaves a valid repository and its uploaded packs are
 * reused by the next run; temp files that killed writes left behind for over a day are removed. Holds a
 * shared lock throughout (as restic's backup does) and writes nothing before it holds it; local paths are
 * already walked while it is being taken (see {@link backupWhileLocking}). Loads the index again if
 * another client rewrote it since it was loaded, and writes no snapshot once the lock is lost.
 *
 * The source and the options are checked before anything is written (invalid ones fail with
 * `InvalidOptions`). Local paths that do not exist are skipped with a warning (`<path> does not exist,
 * skipping`) and listed in `skipped`; when none exists the backup fails with `SourcePathsMissing` before
 * anything is written (as restic's "all target directories/files do not exist").
 */
export async function backup(
  indexed: IndexedRepository,
  source: string | readonly string[] | ReadSource,
  options: BackupOptions = {},
  control: Control = {},
): Promise<BackupResult> {
  // the walk of local paths lists directories on the directory worker: it starts now, beside the preparations
  // (options not checked yet: a bad value is reported by prepareBackup)
  const release = sourceKind(source) === 'paths' && (options as BackupOptions | null)?.local?.statInWorker !== false ? prestartDirectoryWorker() : undefined
  try {
    const prepared = await prepareBackup(indexed, source, options, control)
    const result = prepared.rereadable
      ? await backupWhileLocking(indexed, prepared, control)
      : await indexed.repo.withLock(
          'shared',
          async (lock) => {
            await indexed.reloadIndexIfChanged({ ...control, signal: lock.signal })
            return backupLocked(indexed, prepared, { ...control, signal: lock.signal }, () => lock.verify())
          },
          control,
        )
    if (prepared.missing.length > 0) result.skipped = [...prepared.missing, ...result.skipped]
    return result
  } finally {
    release?.()
  }
}

/** Why a walk done while the lock was taken is thrown away: the index changed before the lock was held. */
const INDEX_CHANGED = 'the index changed while the lock was taken: the backup starts again on the new index'

/**
 * Backs up local paths while the shared lock is being taken. Taking it takes restic's 200 ms at least
 * (list the locks, write this one, wait, list again); meanwhile the backup finds its parent and walks,
 * compares and reads the source, through a {@link GatedBackend} that holds back every write (packs,
 * index files, removals) until the lock is held and the index is known not to have changed since it was
 * loaded. So nothing reaches the repository without the lock, as before. When taking the lock fails,
 * the walk is stopped and the lock's error thrown; when the index changed (another client pruned before
 * the lock was held), the walk is thrown away and the backup runs again, under the lock, on the index
 * loaded again. Only local paths are backed up this way: a custom source may not be readable twice.
 */
async function backupWhileLocking(indexed: IndexedRepository, prepared: Prepared, control: Control): Promise<BackupResult> {
  const repo = indexed.repo
  const generation = indexed.indexGeneration // a concurrent backup of this object may load the index again
  const early = new AbortController()
  const signal = control.signal ? AbortSignal.any([control.signal, early.signal]) : early.signal
  const locking = (async () => {
    const lock = await repo.lock('shared', control)
    try {
      if (lock.signal.aborted) early.abort(lock.signal.reason)
      else lock.signal.addEventListener('abort', () => early.abort(lock.signal.reason), { once: true })
      const changed = (await indexed.indexChanged({ signal: lock.signal })) || indexed.indexGeneration !== generation
      return { lock, changed }
    } catch (e) {
      await lock.release()
      throw e
    }
  })()
  const ready = locking.then(({ lock, changed }) => {
    if (!changed) return lock
    throw new RusticError('Repository', INDEX_CHANGED, { code: 'Aborted' })
  })
  ready.catch((e: unknown) => early.abort(e)) // stops the walk
  const gate = (backend: WriteBackend): WriteBackend => {
    const gated = new GatedBackend(backend)
    ready.then(
      () => gated.open(),
      (e: unknown) => gated.fail(e),
    )
    return gated
  }
  const verify = async (): Promise<void> => (await ready).verify()
  const walked = backupLocked(indexed, prepared, { ...control, signal }, verify, gate).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  )
  let held: Awaited<typeof locking>
  try {
    held = await locking
  } catch (e) {
    await walked
    throw e
  }
  const { lock } = held
  try {
    if (held.changed) {
      await walked
      await indexed.reloadIndexIfChanged({ ...control, signal: lock.signal })
      return await backupLocked(indexed, prepared, { ...control, signal: lock.signal }, () => lock.verify())
    }
    const done = await walked
    if ('error' in done) throw done.error
    return done.result
  } catch (e) {
    throw lock.lostError ?? e
  } finally {
    await lock.release()
  }
}

/** A source as `backup` takes it: a path, paths, or a {@link ReadSource}. */
function sourceKind(source: unknown): 'paths' | 'custom' | undefined {
  if (typeof source === 'string') return 'paths'
  if (Array.isArray(source)) return source.every((p) => typeof p === 'string') ? 'paths' : undefined
  return typeof source === 'object' && source !== null && typeof (source as ReadSource).entries === 'function' ? 'custom' : undefined
}

/** Checks the source and the options, skips missing local paths, and makes the source and the snapshot's fields. */
async function prepareBackup(
  indexed: IndexedRepository,
  source: string | readonly string[] | ReadSource,
  options: BackupOptions,
  control: Control,
): Promise<Prepared> {
  const opts = parseOptions(BackupOptionsSchema, options, 'backup options')
  const { onWarning } = indexed.repo.control(control)
  const { host, tags, label, description, deleteNever, deleteAfter, time } = opts
  const fields = snapshotFromOptions({ host, tags, label, description, deleteNever, deleteAfter, time })
  const kind = sourceKind(source)
  if (kind === undefined) {
    throw new RusticError('InvalidInput', 'invalid backup source: expected a path, a list of paths or a ReadSource', { code: 'InvalidOptions' })
  }
  const missing: SkippedEntry[] = []
  let readSource: ReadSource
  let paths: string[]
  let excludes: string[] = []
  if (kind === 'paths') {
    const localPaths: string[] = typeof source === 'string' ? [source] : [...(source as readonly string[])]
    if (localPaths.length === 0) throw new RusticError('InvalidInput', 'nothing to back up: give at least one path', { code: 'NoPaths' })
    if (localPaths.includes('')) throw new RusticError('InvalidInput', 'invalid backup source: an empty path', { code: 'InvalidOptions' })
    const split = await existingPaths(localPaths, opts.local?.cwd)
    if (split.existing.length === 0) {
      throw new RusticError('InvalidInput', `all backup paths do not exist: ${split.missing.join(', ')}`, { code: 'SourcePathsMissing' })
    }
    for (const p of split.missing) {
      onWarning(`${p} does not exist, skipping`)
      missing.push({ path: p, error: 'does not exist' })
    }
    const local = new LocalSource(split.existing, { onWarning, ...opts.local })
    paths = local.snapshotPaths()
    excludes = local.snapshotExcludes()
    readSource = local
  } else {
    readSource = source as ReadSource
    paths = opts.snapshotPaths ?? readSource.snapshotPaths?.() ?? []
  }
  return { opts, snap: { ...fields, paths, excludes, tree: '' as never }, source: readSource, missing, rereadable: kind === 'paths' }
}

/**
 * One run of the backup: parent, orphan packs, walk, snapshot. Writes go through `wrap(backend)` when
 * given; `verifyLock` is called right before the snapshot is written.
 */
async function backupLocked(
  indexed: IndexedRepository,
  prepared: Prepared,
  control: Control,
  verifyLock: () => Promise<void>,
  wrap: (backend: WriteBackend) => WriteBackend = (backend) => backend,
): Promise<BackupResult> {
  const repo = indexed.repo
  const start = nowGoTime()
  const { signal, progress: progressFactory, onWarning } = repo.control(control)
  const { opts, source: readSource } = prepared
  const snap: SnapshotFile = { ...prepared.snap }

  const parent = await findParent(indexed, opts, snap, signal, onWarning)
  if (parent) snap.parent = parent.id

  const level = opts.compression === undefined ? repo.dbe.compressionLevel : compressionLevel(opts.compression)
  const backend = wrap(opts.dryRun ? new DryRunBackend(repo.backend) : repo.backend)
  const compressionAuto = opts.compression === undefined ? repo.dbe.compressionAuto : opts.compression === 'auto'
  const dbe = new DecryptBackend(backend, repo.key, repo.config.version, level, { compressionAuto, onWarning })

  // Packs that no index names (an interrupted backup's) are adopted while the walk starts: the archiver asks
  // the index which blobs are new only once they are in it (`indexComplete`).
  const adopting = opts.resume && !opts.dryRun ? adoptOrphans(indexed, dbe, signal, onWarning) : Promise.resolve()
  adopting.catch(() => {}) // the archive fails with its error
  // temp files of writes a killed process left behind (the local backend's `data/xx/new-tmp-*`), cleaned
  // up while the backup runs; after the pack listing, whose temp files the local backend reuses
  const cleanup = opts.dryRun ? Promise.resolve() : adopting.then(noop, noop).then(() => removeStaleTempFiles(backend, signal, onWarning))

  const bytes = progressFactory('bytes', 'backing up')
  // The totals only feed a progress bar: skip the extra scan when nobody watches.
  const sizing =
    progressFactory === noProgress
      ? Promise.resolve()
      : readSource.size({ signal }).then(
          (s) => s && bytes.setLength(s.bytes),
          () => {},
        )
  const { force, ignoreCtime, ignoreInode, readConcurrency, sealWorkers } = opts
  const archiverOptions = { force, ignoreCtime, ignoreInode, readConcurrency, sealWorkers }
  const archiver = new Archiver(indexed, parent?.tree, archiverOptions, {
    signal,
    progress: bytes,
    onWarning,
    dbe,
    updateIndex: !opts.dryRun,
    indexComplete: adopting,
  })
  let result
  try {
    result = await archiver.archive(readSource)
  } finally {
    bytes.finish()
    await sizing
    await cleanup // after the adoption too: nothing is written once the backup returns
  }
  const { stats } = result
  snap.tree = result.tree
  snap.summary = {
    backupStart: start,
    backupEnd: nowGoTime(),
    filesNew: stats.filesNew,
    filesChanged: stats.filesChanged,
    filesUnmodified: stats.filesUnmodified,
    dirsNew: stats.dirsNew,
    dirsChanged: stats.dirsChanged,
    dirsUnmodified: stats.dirsUnmodified,
    dataBlobs: result.data.blobs,
    treeBlobs: result.trees.blobs,
    dataAdded: result.data.dataAdded + result.trees.dataAdded,
    dataAddedPacked: result.data.dataAddedPacked + result.trees.dataAddedPacked,
    dataAddedFiles: result.data.dataAdded,
    dataAddedFilesPacked: result.data.dataAddedPacked,
    dataAddedTrees: result.trees.dataAdded,
    dataAddedTreesPacked: result.trees.dataAddedPacked,
    totalFilesProcessed: stats.totalFilesProcessed,
    totalBytesProcessed: stats.totalBytesProcessed,
    totalDirsProcessed: stats.totalDirsProcessed,
    totalDirsizeProcessed: stats.totalDirsizeProcessed,
    backupDuration: (Date.parse(nowGoTime()) - Date.parse(start)) / 1000,
    command: 'backup',
  }
  if (opts.skipIfUnchanged && parent && parent.tree === snap.tree) {
    return { snapshot: parent, saved: false, skipped: stats.skipped }
  }
  if (opts.dryRun) return { snapshot: snap, saved: false, skipped: stats.skipped }
  await verifyLock()
  await repo.saveSnapshot(snap, { signal })
  return { snapshot: snap, saved: true, skipped: stats.skipped }
}

const noop = (): void => {}

/** Adopts the packs no index names (see {@link adoptOrphanPacks}), with a warning when there were any. */
async function adoptOrphans(indexed: IndexedRepository, dbe: DecryptBackend, signal: AbortSignal | undefined, onWarning: WarningHandler): Promise<void> {
  const adopted = await adoptOrphanPacks(indexed, dbe, { signal })
  if (adopted.adopted > 0) {
    onWarning(
      `found ${adopted.adopted} pack(s) (${adopted.blobs} blobs) that no index named (left by an interrupted backup, ` +
        'or lost from the index): added them to a new index file to reuse their blobs',
    )
  }
}

/** Temp files older than this are left by writes that never finished (a day, as no write takes that long). */
const STALE_TEMP_FILE_AGE_MS = 24 * 60 * 60 * 1000

/** Removes stale temp files where the backend can; a failure is a warning. */
async function removeStaleTempFiles(backend: WriteBackend, signal: AbortSignal | undefined, onWarning: WarningHandler): Promise<void> {
  try {
    await backend.removeStaleTempFiles?.(STALE_TEMP_FILE_AGE_MS, { signal })
  } catch (e) {
    if (!isRusticError(e, 'Aborted')) onWarning(`cannot remove temporary files left by interrupted writes: ${(e as Error).message}`, e)
  }
}

async function findParent(
  indexed: IndexedRepository,
  opts: z.output<typeof BackupOptionsSchema>,
  snap: SnapshotFile,
  signal: AbortSignal | undefined,
  onWarning: WarningHandler,
): Promise<SnapshotFile | undefined> {
  if (opts.noParent) return undefined
  if (opts.parent) return indexed.repo.findSnapshot(opts.parent, {}, { signal, onWarning })
  const same = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().every((p, i) => p === [...b].sort()[i])
  const candidates = (await indexed.repo.getSnapshots({ hosts: [snap.hostname] }, { signal, onWarning })).filter(
    (s) => (s.label ?? '') === (snap.label ?? '') && same(s.paths, snap.paths),
  )
  return candidates[candidates.length - 1]
}
