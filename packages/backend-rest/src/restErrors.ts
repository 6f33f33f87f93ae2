import { BackendError, isRusticError, RusticError } from '@rustic-ts/core'
import type { BackendErrorKind } from '@rustic-ts/core'

/**
 * The `BackendError` for an HTTP status a REST server answered with.
 * 404 -> `NotFound`; 401/403 -> `PermissionDenied` (rest-server also answers 403 when a file exists
 * and may not be overwritten, and when an append-only repository refuses a deletion);
 * 400/405/411/416 -> `Invalid`; 408/429 and 5xx -> `Transient`; 507 (quota) and other codes -> `Other`.
 * @param status - the HTTP status code.
 * @param what - the operation and object, e.g. `GET snapshot 1234...`.
 * @param location - the printable repository location (no secrets).
 * @param detail - the start of the response body, shown if it is short printable text.
 */
export function errorFromStatus(status: number, what: string, location: string, detail?: string): BackendError {
  let kind: BackendErrorKind
  if (status === 404) kind = 'NotFound'
  else if (status === 401 || status === 403) kind = 'PermissionDenied'
  else if (status === 400 || status === 405 || status === 411 || status === 416) kind = 'Invalid'
  else if (status === 408 || status === 429 || (status >= 500 && status !== 507 && status <= 599)) kind = 'Transient'
  else kind = 'Other'
  const hint =
    status === 401
      ? ' (wrong user name or password?)'
      : status === 403
        ? ' (not allowed: wrong credentials, an existing file, or an append-only repository)'
        : status === 507
          ? ' (server quota exceeded)'
          : ''
  const text = cleanDetail(detail)
  return new BackendError(kind, `${what} at ${location}: server answered ${status}${hint}${text ? `: ${text}` : ''}`)
}

/** Error codes of certificate problems: retrying does not help. */
const PERMANENT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|ERR_INVALID_URL/

/**
 * Maps a failure of a transport (connection refused or reset, timeouts, broken streams) to a
 * transient `Network` `BackendError`, certificate problems to a non-transient one, an abort of
 * `signal` to a `RusticError` with code `Aborted`, and passes `RusticError`s through.
 */
export function errorFromFailure(err: unknown, what: string, location: string, signal?: AbortSignal): RusticError {
  if (signal?.aborted) {
    return new RusticError('Internal', `${what} at ${location} aborted`, { code: 'Aborted', cause: signal.reason })
  }
  if (isRusticError(err)) return err
  const code = errorCode(err)
  const message = err instanceof Error ? err.message : String(err)
  const reason = code !== undefined && !message.includes(code) ? (message ? `${code}: ${message}` : code) : message
  const transient = code === undefined || !PERMANENT_CODES.test(code)
  return new BackendError('Network', `${what} at ${location} failed: ${reason || 'connection error'}`, {
    cause: err,
    transient,
  })
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

function cleanDetail(detail: string | undefined): string {
  if (detail === undefined) return ''
  const line = detail.trim().split('\n')[0] ?? ''
  if (!/^[\x20-\x7e]*$/.test(line)) return ''
  return line.length > 200 ? `${line.slice(0, 200)}...` : line
}
