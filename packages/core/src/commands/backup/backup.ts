import { z } from 'zod'
import { Archiver } from '../../archiver/Archiver.js'
import { ArchiverOptionsSchema } from '../../archiver/ArchiverOptions.js'
import type { SkippedEntry } from '../../archiver/BackupStats.js'
import type { ReadSource } from '../../archiver/ReadSource.js'
import { existingPaths } from '../../archiver/sources/existingPaths.js'
import { LocalSource, LocalSourceOptionsSchema } from '../../archiver/sources/index.js'
import type { WriteBackend } from '../../backend/Backend.js'
import { DecryptBackend } from '../../backend/DecryptBackend.js'
import { DryRunBackend } from '../../backend/DryRunBackend.js'
import { CompressionChoiceSchema, compressionLevel } from '../../compression/index.js'
import { isRusticError, RusticError } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import { noProgress, type WarningHandler } from '../../progress/Progress.js'
import { nowGoTime, type SnapshotFile } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import type { LockHandle } from '../../repository/lock/index.js'
import { adoptOrphanPacks } from './adoptOrphanPacks.js'
import { parseOptions } from '../../util/parseOptions.js'
import { snapshotFromOptions, SnapshotOptionsSchema } from './SnapshotOptions.js'

/**
 * Options of `IndexedRepository.backup`, with defaults: rustic_core's `BackupOptions` (parent,
 * excludes of local sources, ...) and the new snapshot's metadata (its `SnapshotOptions`).
 */
export const BackupOptionsSchema = ArchiverOptionsSchema.extend({
  /** Parent snapshot (id, prefix, `latest`...); default: the latest with the same host, label and paths. */
  parent: z.string().optional(),
  /** Back up without a parent: read every file. */
  noParent: z.boolean().default(false),
  /** Do not save a snapshot when nothing changed since the parent. */
  skipIfUnchanged: z.boolean().default(false),
  /** Reuse packs of interrupted backups that no index names yet (lists all packs first). */
  resume: z.boolean().default(true),
  /** Do everything but write to the repository. */
  dryRun: z.boolean().default(false),
  /** Compression of new blobs (v2): `off`, `auto`, `max` or a zstd level. */
  compression: CompressionChoiceSchema.optional(),
  /** Options of a local source (local paths given): excludes, one-file-system... */
  local: LocalSourceOptionsSchema.optional(),
  /**
   * The snapshot's `paths` when backing up a custom source (default: the source's `snapshotPaths()`,
   * else none). Local paths are recorded as given.
   */
  snapshotPaths: z.array(z.string()).optional(),
}).extend(SnapshotOptionsSchema.shape)

/** Options of `IndexedRepository.backup`; see {@link BackupOptionsSchema}. */
export type BackupOptions = z.input<typeof BackupOptionsSchema>

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
}

/**
 * Backs up local paths (or a custom {@link ReadSource}) into a new snapshot. Writes packs, then index
 * files, then the snapshot, so an interrupted backup leaves a valid repository and its uploaded packs are
 * reused by the next run; temp files that killed writes left behind for over a day are removed. Holds a
 * shared lock throughout (as restic's backup does); loads the index again if another client rewrote it
 * since it was loaded, and writes no snapshot once the lock is lost.
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
  const prepared = await prepareBackup(indexed, source, options, control)
  return indexed.repo.withLock(
    'shared',
    async (lock) => {
      await indexed.reloadIndexIfChanged({ ...control, signal: lock.signal })
      const result = await backupLocked(indexed, prepared, { ...control, signal: lock.signal }, lock)
      if (prepared.missing.length > 0) result.skipped = [...prepared.missing, ...result.skipped]
      return result
    },
    control,
  )
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
  return { opts, snap: { ...fields, paths, excludes, tree: '' as never }, source: readSource, missing }
}

async function backupLocked(indexed: IndexedRepository, prepared: Prepared, control: Control, lock: LockHandle): Promise<BackupResult> {
  const repo = indexed.repo
  const start = nowGoTime()
  const { signal, progress: progressFactory, onWarning } = repo.control(control)
  const { opts, snap, source: readSource } = prepared

  const parent = await findParent(indexed, opts, snap, signal, onWarning)
  if (parent) snap.parent = parent.id

  const level = opts.compression === undefined ? repo.dbe.compressionLevel : compressionLevel(opts.compression)
  const backend = opts.dryRun ? new DryRunBackend(repo.backend) : repo.backend
  const compressionAuto = opts.compression === undefined ? repo.dbe.compressionAuto : opts.compression === 'auto'
  const dbe = new DecryptBackend(backend, repo.key, repo.config.version, level, { compressionAuto, onWarning })

  // temp files of writes a killed process left behind (the local backend's `data/xx/new-tmp-*`), cleaned
  // up while the backup runs
  const cleanup = opts.dryRun ? Promise.resolve() : removeStaleTempFiles(repo.backend, signal, onWarning)
  if (opts.resume && !opts.dryRun) {
    const adopted = await adoptOrphanPacks(indexed, dbe, { signal })
    if (adopted.adopted > 0) {
      onWarning(
        `found ${adopted.adopted} pack(s) (${adopted.blobs} blobs) that no index named (left by an interrupted backup, ` +
          'or lost from the index): added them to a new index file to reuse their blobs',
      )
    }
  }

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
  const archiver = new Archiver(indexed, parent?.tree, archiverOptions, { signal, progress: bytes, onWarning, dbe, updateIndex: !opts.dryRun })
  let result
  try {
    result = await archiver.archive(readSource)
  } finally {
    bytes.finish()
    await sizing
    await cleanup
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
  await lock.verify()
  await repo.saveSnapshot(snap, { signal })
  return { snapshot: snap, saved: true, skipped: stats.skipped }
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
