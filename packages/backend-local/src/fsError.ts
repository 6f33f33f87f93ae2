import { BackendError } from '@rustic-ts/core'
import type { BackendErrorKind } from '@rustic-ts/core'

/** Error codes after which trying again may succeed (too many open files, busy, interrupted). */
const TRANSIENT_CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR'])

/**
 * Turns a Node `fs` error into a `BackendError`: `ENOENT`/`ENOTDIR` -> `NotFound`,
 * `EACCES`/`EPERM` -> `PermissionDenied`, `EEXIST` -> `AlreadyExists`, others (`EIO`, `ENOSPC`, ...) -> `Other`
 * (transient for `EMFILE`, `ENFILE`, `EAGAIN`, `EBUSY`, `EINTR`).
 * @param what - what was being done, e.g. `cannot read pack 1234... at /repo/data/12/1234...`.
 */
export function fsError(err: unknown, what: string): BackendError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  let kind: BackendErrorKind
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      kind = 'NotFound'
      break
    case 'EACCES':
    case 'EPERM':
      kind = 'PermissionDenied'
      break
    case 'EEXIST':
      kind = 'AlreadyExists'
      break
    default:
      kind = 'Other'
  }
  const reason = kind === 'NotFound' ? 'not found' : code ?? (err instanceof Error ? err.message : String(err))
  return new BackendError(kind, `${what}: ${reason}`, { cause: err, transient: TRANSIENT_CODES.has(code ?? '') })
}
