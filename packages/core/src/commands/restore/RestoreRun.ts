import { closeSync, constants, ftruncateSync, openSync } from 'node:fs'
import pLimit, { type LimitFunction } from 'p-limit'
import type { Control, ResolvedControl } from '../../progress/Control.js'
import type { Progress, ProgressKind } from '../../progress/Progress.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { MetadataWriter } from './MetadataWriter.js'
import { displayPath } from './fsPath.js'
import type { ResolvedRestoreOptions } from './RestoreOptions.js'
import type { PlannedBlob, RestorePlan, RestoreStats } from './RestorePlan.js'
import { restoreIoError } from './restoreIoError.js'

/** One run of `restore`: the plan, its options, the control, the counts, and what its phases hand on to each other. */
export class RestoreRun {
  /** The plan's options (defaults applied when it was made). */
  readonly opts: ResolvedRestoreOptions
  /** The caller's control, the repository's defaults filled in. */
  readonly control: ResolvedControl
  /** What has been done so far (the result). */
  readonly stats: RestoreStats = {
    filesWritten: 0,
    dirsCreated: 0,
    othersCreated: 0,
    removed: 0,
    bytesRead: 0,
    bytesWritten: 0,
    metadataSet: 0,
    warnings: 0,
    damaged: [],
  }
  /** Files (indexes into the plan's `files`) with damaged data, and the first error. */
  readonly damagedFiles = new Map<number, string>()
  /** Bounds the file operations in flight. */
  readonly fileLimit: LimitFunction
  /** Sets owners, modes, times and xattrs. */
  readonly meta: MetadataWriter
  /** By entry: 1 where a worker has set the metadata already (on the file's descriptor, after its last write). */
  readonly metaDone: Uint8Array
  /** By entry: 1 where restore created or wrote the entry (its metadata is then set even where it seems unchanged). */
  readonly touched: Uint8Array
  private filesProgress: Progress | undefined

  constructor(
    readonly indexed: IndexedRepository,
    readonly plan: RestorePlan,
    control: Control,
  ) {
    const opts = (this.opts = plan.options)
    this.control = indexed.repo.control(control)
    this.fileLimit = pLimit(opts.fileConcurrency)
    this.meta = new MetadataWriter({ numericId: opts.numericId, noOwnership: opts.noOwnership, warn: (message, error) => this.warn(message, error) })
    this.metaDone = new Uint8Array(plan.entries.length)
    this.touched = new Uint8Array(plan.entries.length)
  }

  /** The caller's abort signal. */
  get signal(): AbortSignal | undefined {
    return this.control.signal
  }

  /** A progress indicator of the caller's (silent without one). */
  progress(kind: ProgressKind, title: string): Progress {
    return this.control.progress(kind, title)
  }

  /** Reports a problem that does not stop the restore (counted in `stats.warnings`). */
  warn(message: string, error?: unknown): void {
    this.stats.warnings++
    this.control.onWarning(message, error)
  }

  /** A blob's data is damaged (see `isRepositoryDamage`): the files it goes into cannot be restored completely. */
  damage(blob: PlannedBlob, error: unknown): void {
    const why = error instanceof Error ? error.message : String(error)
    for (const t of blob.targets) if (!this.damagedFiles.has(t.file)) this.damagedFiles.set(t.file, why)
  }

  /**
   * Once the contents are written: each file with damaged data is reported (warning, `stats.damaged`) and
   * made to exist with its size (a new file whose only blob was damaged was never created), so that hard
   * links to it and a later restore find it.
   */
  reportDamage(): void {
    const warn = this.control.onWarning
    for (const [fileIndex, error] of [...this.damagedFiles].sort((a, b) => a[0] - b[0])) {
      const files = this.plan.files
      const entries = this.plan.entries
      const entry = files.entry(fileIndex)
      const path = entries.fsPath(entry)
      try {
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
        try {
          ftruncateSync(fd, files.size(fileIndex))
        } finally {
          closeSync(fd)
        }
      } catch (err) {
        throw restoreIoError(err, 'write', path)
      }
      const fsPath = displayPath(path)
      this.stats.damaged.push({ path: entries.path(entry), fsPath, error })
      warn(`${fsPath} is not restored completely: ${error}`)
    }
  }

  /** True if the entry is a file with damaged data (its times are then left alone, so that a later restore sees it changed). */
  isDamaged(entry: number): boolean {
    const f = this.plan.entries.file(entry)
    return f >= 0 && this.damagedFiles.has(f)
  }

  /** Counts the files of the plan as they are written, in a progress counter (until {@link RestoreRun.endFiles}). */
  startFiles(): void {
    this.filesProgress = this.progress('counter', 'restoring files')
    this.filesProgress.setLength(this.plan.files.length)
  }

  /** A file of the plan is written. */
  fileDone(): void {
    this.stats.filesWritten++
    this.filesProgress?.inc(1)
  }

  /** Ends the files' progress counter. */
  endFiles(): void {
    this.filesProgress?.finish()
  }
}
