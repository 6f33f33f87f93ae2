import { z } from 'zod'
import type { ProgressFactory, WarningHandler } from './Progress.js'

/**
 * The fields every long command takes in its last argument, {@link Control}. `RepositoryOptions`
 * uses the same `progress` and `onWarning` fields as the repository's defaults.
 */
export const ControlSchema = z.object({
  /** Cancels the work: it stops soon and fails with code `Aborted`. */
  signal: z.custom<AbortSignal>((v) => v === undefined || v instanceof AbortSignal).optional(),
  /** Creates progress indicators (default: the repository's, else silent). */
  progress: z.custom<ProgressFactory>((v) => v === undefined || typeof v === 'function').optional(),
  /** Receives warnings: problems that do not stop the work (default: the repository's, else dropped). */
  onWarning: z.custom<WarningHandler>((v) => v === undefined || typeof v === 'function').optional(),
})

/**
 * How a command is cancelled and where it reports: the last argument of every command method,
 * `method(subjects..., options?, control?)`. Missing fields fall back to the repository's
 * `RepositoryOptions.progress` / `onWarning`.
 */
export type Control = z.input<typeof ControlSchema>

/** A {@link Control} with the repository's defaults filled in. */
export interface ResolvedControl {
  signal?: AbortSignal
  progress: ProgressFactory
  onWarning: WarningHandler
}
