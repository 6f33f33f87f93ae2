import { RusticError } from '../error/RusticError.js'

/** What went wrong in a backend call. */
export type BackendErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'PermissionDenied'
  | 'Network'
  | 'Transient'
  | 'Invalid'
  | 'Other'

/** Options for {@link BackendError}. */
export interface BackendErrorOptions {
  cause?: unknown
  /** Overrides the default: `Network` and `Transient` are transient, the others are not. */
  transient?: boolean
}

/** An error from a backend. The retry decorator retries it only when `isTransient`. */
export class BackendError extends RusticError {
  /** What went wrong. */
  readonly backendKind: BackendErrorKind
  /** True if trying again may succeed. */
  readonly isTransient: boolean

  constructor(backendKind: BackendErrorKind, message: string, options: BackendErrorOptions = {}) {
    super('Backend', message, { code: backendKind, cause: options.cause })
    this.name = 'BackendError'
    this.backendKind = backendKind
    this.isTransient = options.transient ?? (backendKind === 'Network' || backendKind === 'Transient')
  }
}

/** True if `err` is a {@link BackendError} of kind `NotFound`. */
export function isNotFound(err: unknown): boolean {
  return err instanceof BackendError && err.backendKind === 'NotFound'
}
