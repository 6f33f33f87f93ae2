import pLimit, { type LimitFunction } from 'p-limit'
import { noProgress, type Progress, type ProgressKind } from '../../progress/Progress.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { MetadataWriter } from './MetadataWriter.js'
import { parseOptions } from '../control.js'
import { RestoreOptionsSchema, type ResolvedRestoreOptions, type RestoreOptions } from './RestoreOptions.js'
import type { RestorePlan, RestoreStats } from './RestorePlan.js'

/** One run of `restore`: the plan, the options, the counts, and what its phases hand on to each other. */
export class RestoreRun {
  /** The options, defaults applied. */
  readonly opts: ResolvedRestoreOptions
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
  }
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
    options: RestoreOptions,
  ) {
    const opts = (this.opts = parseOptions(RestoreOptionsSchema, options, 'restore options'))
    this.fileLimit = pLimit(opts.fileConcurrency)
    this.meta = new MetadataWriter({ numericId: opts.numericId, noOwnership: opts.noOwnership, warn: (message, error) => this.warn(message, error) })
    this.metaDone = new Uint8Array(plan.entries.length)
    this.touched = new Uint8Array(plan.entries.length)
  }

  /** The caller's abort signal. */
  get signal(): AbortSignal | undefined {
    return this.opts.signal
  }

  /** A progress indicator of the caller's (silent without one). */
  progress(kind: ProgressKind, title: string): Progress {
    return (this.opts.progress ?? noProgress)(kind, title)
  }

  /** Reports a problem that does not stop the restore (counted in `stats.warnings`). */
  warn(message: string, error?: unknown): void {
    this.stats.warnings++
    ;(this.opts.onWarning ?? this.indexed.repo.onWarning)(message, error)
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
