import { throwIfAborted } from '../error/RusticError.js'

/** Options of {@link drainStack}. */
export interface DrainStackOptions {
  /** Items worked on at once (at least 1). */
  concurrency: number
  signal?: AbortSignal
}

/**
 * Runs `work` on every item of a stack, `concurrency` at a time, last in first out (for a tree walk:
 * depth first, the order trees are packed in). `work` may `push` new items onto the stack. Resolves
 * once the stack is empty and no work runs. On the first failure, or when `signal` aborts, it starts
 * nothing more, waits for the work still running, and rejects with that failure (`Aborted` for the
 * signal).
 *
 * p-limit queues first in, first out and cannot tell when a queue that grows while it runs is done;
 * this is the one place the project pumps such a queue by hand.
 */
export async function drainStack<T>(
  start: Iterable<T>,
  work: (item: T, push: (item: T) => void) => Promise<void>,
  options: DrainStackOptions,
): Promise<void> {
  const stack = [...start]
  const push = (item: T): void => void stack.push(item)
  const concurrency = Math.max(1, options.concurrency)
  let running = 0
  let failed: { error: unknown } | undefined
  let settle!: { resolve: () => void; reject: (e: unknown) => void }
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
  const pump = (): void => {
    if (!failed && options.signal?.aborted) {
      try {
        throwIfAborted(options.signal)
      } catch (error) {
        failed = { error }
      }
    }
    if (failed) {
      if (running === 0) settle.reject(failed.error)
      return
    }
    while (running < concurrency && stack.length > 0) {
      const item = stack.pop()!
      running++
      work(item, push).then(
        () => {
          running--
          pump()
        },
        (error: unknown) => {
          running--
          failed ??= { error }
          pump()
        },
      )
    }
    if (running === 0 && stack.length === 0) settle.resolve()
  }
  pump()
  return done
}
