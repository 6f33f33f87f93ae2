import { RusticError } from '../error/RusticError.js'

/** Parameters of an exponential backoff. */
export interface BackoffParams {
  /** Delay before the first retry, in ms (before jitter). */
  baseDelayMs: number
  /** Upper bound of any delay, in ms. */
  maxDelayMs: number
  /** Full jitter: draw the delay uniformly from [0, computed delay]. */
  jitter: boolean
}

/**
 * The delay before retry number `attempt` (0-based): `min(maxDelayMs, baseDelayMs * 2^attempt)`,
 * with full jitter a uniform random value in [0, that].
 * @param random - a source of numbers in [0, 1) (default `Math.random`).
 */
export function backoffDelay(attempt: number, params: BackoffParams, random: () => number = Math.random): number {
  const exp = Math.min(params.maxDelayMs, params.baseDelayMs * 2 ** Math.min(attempt, 52))
  return params.jitter ? random() * exp : exp
}

/**
 * Waits `ms` milliseconds; rejects at once with a `RusticError` of code `Aborted` when `signal` aborts
 * (also if it was aborted before).
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abortError = (): RusticError =>
      new RusticError('Internal', 'operation aborted', { code: 'Aborted', cause: signal?.reason })
    if (signal?.aborted) return reject(abortError())
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(abortError())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
