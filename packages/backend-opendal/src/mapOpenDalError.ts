import { BackendError, isBackendError, isRusticError } from '@rustic-ts/core'
import type { BackendErrorKind } from '@rustic-ts/core'

/** The parts of an opendal error string (`NotFound (permanent) at read, context: { ... } => message`). */
export interface ParsedOpenDalError {
  /** opendal's `ErrorKind` (`NotFound`, `PermissionDenied`, `Unexpected`, ...), or `undefined` if not an opendal error. */
  kind: string | undefined
  /** opendal's status: `permanent`, `temporary` (retrying may help) or `persistent` (retries failed). */
  status: string | undefined
  /** The operation opendal names (`read`, `stat`, ...). */
  operation: string | undefined
  /** The HTTP status of the response, if the context names one. */
  httpStatus: number | undefined
  /** The message after ` => ` (the cause), or the whole text. */
  detail: string
}

const HEAD = /^(\w+) \((permanent|temporary|persistent)\) at ([^,]*)/

/** Splits an opendal error message (the binding's errors are untyped strings) into its parts. */
export function parseOpenDalError(message: string): ParsedOpenDalError {
  const head = HEAD.exec(message)
  const arrow = message.indexOf(' => ')
  const http = /status: (\d{3})\b/.exec(message)
  return {
    kind: head?.[1],
    status: head?.[2],
    operation: head?.[3]?.trim() || undefined,
    httpStatus: http ? Number(http[1]) : undefined,
    detail: (arrow >= 0 ? message.slice(arrow + 4) : message).trim(),
  }
}

const NETWORK =
  /error sending request|connection refused|connection reset|connection closed|broken pipe|dns error|timed out|tcp connect|failed to lookup address/i

/** The `BackendErrorKind` and transience of a parsed opendal error. */
export function classifyOpenDalError(p: ParsedOpenDalError): { kind: BackendErrorKind; transient: boolean } {
  const retryable = p.status === 'temporary' || p.status === 'persistent'
  switch (p.kind) {
    case 'NotFound':
      return { kind: 'NotFound', transient: false }
    case 'PermissionDenied':
      return { kind: 'PermissionDenied', transient: false }
    case 'AlreadyExists':
      return { kind: 'AlreadyExists', transient: false }
    case 'RateLimited':
      return { kind: 'Transient', transient: true }
    case 'ConfigInvalid':
    case 'Unsupported':
    case 'RangeNotSatisfied':
      return { kind: 'Invalid', transient: false }
    default:
      if (NETWORK.test(p.detail)) return { kind: 'Network', transient: true }
      if (retryable) return { kind: 'Transient', transient: true }
      return { kind: 'Other', transient: false }
  }
}

/**
 * Removes secrets from a message: URL credentials (`scheme://user:pass@`) and every given secret value.
 * @param secrets - values to replace by `***` (e.g. access keys and passwords from the service options).
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@')
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join('***')
  return out
}

/**
 * Turns an error thrown by the `opendal` binding into a `BackendError` whose message names the
 * operation and file and holds opendal's reason (shortened, secrets removed).
 * @param err - what opendal threw.
 * @param what - the operation and object, e.g. `cannot read snapshot 1234... from opendal:s3:bucket`.
 * @param secrets - values that must not appear in the message.
 */
export function mapOpenDalError(err: unknown, what: string, secrets: readonly string[]): BackendError {
  if (isBackendError(err)) return err
  if (isRusticError(err)) return new BackendError('Other', `${what}: ${err.message}`, { cause: err })
  const raw = err instanceof Error ? err.message : String(err)
  const p = parseOpenDalError(raw)
  const { kind, transient } = classifyOpenDalError(p)
  let reason = p.kind ? `${p.kind} (${p.status})` : ''
  if (p.httpStatus !== undefined) reason += ` HTTP ${p.httpStatus}`
  const detail = p.detail.replace(/\s+/g, ' ').slice(0, 300)
  reason = reason ? `${reason}: ${detail}` : detail
  const message = redactSecrets(`${what}: ${reason}`, secrets)
  // The cause keeps opendal's full text (context, headers), with secrets removed.
  const cause = new Error(redactSecrets(raw, secrets))
  return new BackendError(kind, message, { cause, transient })
}
