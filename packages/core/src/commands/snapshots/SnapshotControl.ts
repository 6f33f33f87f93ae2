import type { ProgressFactory, WarningHandler } from '../../progress/Progress.js'

/**
 * How a caller steers the snapshot commands (`groupSnapshots`, `modifySnapshots`, `deleteSnapshots`,
 * `planForget`, `forget`): the last argument of each. Fields left out fall back to the repository's own.
 */
export interface SnapshotControl {
  /** Cancels the work; it then fails with code `Aborted`. */
  signal?: AbortSignal
  /** Creates progress indicators. */
  progress?: ProgressFactory
  /** Receives warnings. */
  onWarning?: WarningHandler
}
