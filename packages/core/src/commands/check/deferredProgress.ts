import type { Progress } from '../../progress/Progress.js'

/** A {@link Progress} that counts what is done before its indicator exists, and hands it over once attached. */
export interface DeferredProgress extends Progress {
  /** From now on, everything goes to `progress` (what was counted so far first). */
  attach(progress: Progress): void
}

/**
 * A progress for work that starts while another indicator is showing (a command shows one at a time): it
 * counts quietly until {@link DeferredProgress.attach} gives it its own indicator.
 */
export function deferredProgress(): DeferredProgress {
  let target: Progress | undefined
  let done = 0
  return {
    attach(progress) {
      target = progress
      if (done > 0) progress.inc(done)
    },
    setLength: (n) => target?.setLength(n),
    setTitle: (t) => target?.setTitle(t),
    inc(n) {
      if (target) target.inc(n)
      else done += n
    },
    finish: () => target?.finish(),
  }
}
