import { z } from 'zod'
import { Archiver } from '../../archiver/Archiver.js'
import { ArchiverOptionsSchema } from '../../archiver/ArchiverOptions.js'
import type { SkippedEntry } from '../../archiver/BackupStats.js'
import type { ReadSource } from '../../archiver/ReadSource.js'
import { LocalSource, LocalSourceOptionsSchema } from '../../archiver/sources/index.js'
import { DecryptBackend } from '../../backend/DecryptBackend.js'
import { DryRunBackend } from '../../backend/DryRunBackend.js'
import { compressionLevel, type CompressionMode } from '../../compression/index.js'
import { RusticError } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import { noProgress } from '../../progress/Progress.js'
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
  compression: z.union([z.enum(['off', 'auto', 'max']), z.number().int()]).optional(),
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
  /** Entries that could not be read and were left out. */
  skipped: SkippedEntry[]
}

/**
 * Backs up local paths (or a custom {@link ReadSource}) into a new snapshot. Writes packs, then index
 * files, then the snapshot, so an interrupted backup leaves a valid repository and its uploaded packs are
 * reused by the next run. Holds a shared lock throughout (as restic's backup does); loads the index again
 * if another client rewrote it since it was loaded, and writes no snapshot once the lock is lost.
 */
export async function backup(
  indexed: IndexedRepository,
  source: string | readonly string[] | ReadSource,
  options: BackupOptions = {},
  control: Control = {},
): Promise<BackupResult> {
  const opts = parseOptions(BackupOptionsSchema, options, 'backup options')
  return indexed.repo.withLock(
    'shared',
    async (lock) => {
      await indexed.reloadIndexIfChanged({ ...control, signal: lock.signal })
      return backupLocked(indexed, source, opts, { ...control, signal: lock.signal }, lock)
    },
    control,
  )
}

async function backupLocked(
  indexed: IndexedRepository,
  source: string | readonly string[] | ReadSource,
  opts: z.output<typeof BackupOptionsSchema>,
  control: Control,
  lock: LockHandle,
): Promise<BackupResult> {
  const repo = indexed.repo
  const start = nowGoTime()
  const { signal, progress: progressFactory, onWarning } = repo.control(control)
  let readSource: ReadSource
  let paths: string[]
  let excludes: string[] = []
  if (typeof source === 'string' || Array.isArray(source)) {
    const localPaths: string[] = typeof source === 'string' ? [source] : [...(source as readonly string[])]
    if (localPaths.length === 0) throw new RusticError('InvalidInput', 'nothing to back up: give at least one path', { code: 'NoPaths' })
    const local = new LocalSource(localPaths, { onWarning, ...opts.local })
    paths = local.snapshotPaths()
    excludes = local.snapshotExcludes()
    readSource = local
  } else {
    readSource = source as ReadSource
    paths = opts.snapshotPaths ?? readSource.snapshotPaths?.() ?? []
  }
  const { host, tags, label, description, deleteNever, deleteAfter, time } = opts
  const snap: SnapshotFile = {
    ...snapshotFromOptions({ host, tags, label, description, deleteNever, deleteAfter, time }),
    paths,
    excludes,
    tree: '' as never,
  }

  const parent = await findParent(indexed, opts, snap, signal)
  if (parent) snap.parent = parent.id

  const level = opts.compression === undefined ? repo.dbe.compressionLevel : compressionLevel(opts.compression as CompressionMode)
  const backend = opts.dryRun ? new DryRunBackend(repo.backend) : repo.backend
  const dbe = new DecryptBackend(backend, repo.key, repo.config.version, level)

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

async function findParent(
  indexed: IndexedRepository,
  opts: z.output<typeof BackupOptionsSchema>,
  snap: SnapshotFile,
  signal: AbortSignal | undefined,
): Promise<SnapshotFile | undefined> {
  if (opts.noParent) return undefined
  if (opts.parent) return indexed.repo.findSnapshot(opts.parent, {}, { signal })
  const same = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().every((p, i) => p === [...b].sort()[i])
  const candidates = (await indexed.repo.getSnapshots({ hosts: [snap.hostname] }, { signal })).filter(
    (s) => (s.label ?? '') === (snap.label ?? '') && same(s.paths, snap.paths),
  )
  return candidates[candidates.length - 1]
}
