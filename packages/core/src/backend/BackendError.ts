import { isRusticError, RusticError } from '../error/RusticError.js'

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

/** Marks backend errors made by any copy of rustic-ts. */
const BACKEND_ERROR = Symbol.for('rustic-ts.BackendError')

/**
 * An error from a backend. The retry decorator retries it only when `isTransient`. Recognise one with
 * {@link isBackendError} (it works across copies of the library).
 */
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
    Object.defineProperty(this, BACKEND_ERROR, { value: true })
  }
}

/** True if `err` is a {@link BackendError} (optionally of the given kind), also when it comes from another copy of rustic-ts. */
export function isBackendError(err: unknown, kind?: BackendErrorKind): err is BackendError {
  const is = err instanceof BackendError || (isRusticError(err) && (err as unknown as Record<symbol, unknown>)[BACKEND_ERROR] === true)
  return is && (kind === undefined || (err as BackendError).backendKind === kind)
}

/** True if `err` is a {@link BackendError} of kind `NotFound`. */
export function isNotFound(err: unknown): boolean {
  return isBackendError(err, 'NotFound')
}
