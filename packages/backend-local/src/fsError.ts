import { BackendError } from '@rustic-ts/core'
import type { BackendErrorKind } from '@rustic-ts/core'

/** Error codes after which trying again may succeed (too many open files, busy, interrupted). */
const TRANSIENT_CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR'])

/** What common error codes mean, for messages (`EROFS (read-only file system)`). */
const MEANINGS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EEXIST: 'file exists',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
}

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
  const reason =
    code === 'ENOENT'
      ? 'not found'
      : code !== undefined
        ? MEANINGS[code] === undefined
          ? code
          : `${code} (${MEANINGS[code]})`
        : err instanceof Error
          ? err.message
          : String(err)
  return new BackendError(kind, `${what}: ${reason}`, { cause: err, transient: TRANSIENT_CODES.has(code ?? '') })
}
