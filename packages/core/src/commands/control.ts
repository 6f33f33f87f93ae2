import type { z } from 'zod'
import { RusticError } from '../error/RusticError.js'
import { noProgress, type ProgressFactory, type WarningHandler } from '../progress/Progress.js'
import type { Repository } from '../repository/Repository.js'

/**
 * What every long command takes last: cancellation, progress and warnings. A missing field falls back to
 * the repository's own (`RepositoryOptions.progress` / `onWarning`).
 */
export interface Control {
  /** Cancels the command (it then fails with code `Aborted`). */
  signal?: AbortSignal
  /** Creates progress indicators. */
  progress?: ProgressFactory
  /** Receives warnings. */
  onWarning?: WarningHandler
}

/** A {@link Control} with the repository's defaults filled in. */
export interface ResolvedControl {
  signal: AbortSignal | undefined
  progress: ProgressFactory
  onWarning: WarningHandler
}

/** Fills the missing fields of `control` from the repository's options. */
export function resolveControl(repo: Repository, control: Control = {}): ResolvedControl {
  return {
    signal: control.signal,
    progress: control.progress ?? repo.progress ?? noProgress,
    onWarning: control.onWarning ?? repo.onWarning,
  }
}

/**
 * Validates a command's options with its zod schema and fills in the defaults. Invalid input becomes a
 * `RusticError` with code `InvalidOptions` naming the field, never a raw `ZodError`.
 * @param what - names the options in the message, e.g. `check options`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const res = schema.safeParse(input ?? {})
  if (res.success) return res.data
  const issue = res.error.issues[0]
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : undefined
  throw new RusticError('InvalidInput', `invalid ${what}${field ? `: ${field}` : ''}: ${issue?.message ?? 'invalid value'}`, {
    code: 'InvalidOptions',
  })
}
