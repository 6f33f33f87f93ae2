/** Error kinds, as in rustic_core. */
export type ErrorKind =
  | 'Backend'
  | 'Configuration'
  | 'Credentials'
  | 'Cryptography'
  | 'InvalidInput'
  | 'InputOutput'
  | 'Repository'
  | 'Unsupported'
  | 'Verification'
  | 'AppendOnly'
  | 'ExternalCommand'
  | 'Internal'

/**
 * Stable error codes that callers may match on. Other codes may appear; these are the documented ones.
 */
export type ErrorCode =
  | 'IncorrectPassword'
  | 'NoPassword'
  | 'RepositoryNotFound'
  | 'RepositoryExists'
  | 'AmbiguousId'
  | 'IdNotFound'
  | 'InvalidId'
  | 'IntegrityError'
  | 'MacMismatch'
  | 'DecodeError'
  | 'UnsupportedVersion'
  | 'AppendOnly'
  | 'Aborted'
  | 'RepositoryLocked'
  | 'LockLost'
  | 'BlobNotFound'
  | 'PackMissing'
  | 'PackSizeMismatch'
  | 'PlanOutdated'
  | (string & {})

/** Options for {@link RusticError}. */
export interface RusticErrorOptions {
  /** Stable code for programmatic matching. */
  code?: ErrorCode
  /** The underlying error. */
  cause?: unknown
}

/** Base class of every error thrown by rustic-ts. Messages name the object concerned and never contain secrets. */
export class RusticError extends Error {
  /** The broad category, as in rustic_core. */
  readonly kind: ErrorKind
  /** A stable code, for the cases code wants to match (e.g. `IncorrectPassword`). */
  readonly code: ErrorCode

  constructor(kind: ErrorKind, message: string, options: RusticErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RusticError'
    this.kind = kind
    this.code = options.code ?? kind
  }
}

/** True if `err` is a {@link RusticError} (optionally with the given code). */
export function isRusticError(err: unknown, code?: ErrorCode): err is RusticError {
  return err instanceof RusticError && (code === undefined || err.code === code)
}

/** Throws a `RusticError` with code `Aborted` if the signal is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    throw new RusticError('Internal', 'operation aborted', { code: 'Aborted', cause: signal.reason })
  }
}
