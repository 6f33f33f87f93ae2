import { isRusticError, type RusticError } from '@rustic-ts/core/internal'

/** The `RusticError` that `fn` throws (any other error is thrown on; no error fails the test). */
export function thrown(fn: () => unknown): RusticError {
  try {
    fn()
  } catch (e) {
    if (isRusticError(e)) return e
    throw e
  }
  throw new Error('expected an error')
}

/** The `RusticError` that `p` (or what `p()` returns) rejects with, as {@link thrown}. */
export async function rejection(p: Promise<unknown> | (() => unknown)): Promise<RusticError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    if (isRusticError(e)) return e
    throw e
  }
  throw new Error('expected an error')
}
