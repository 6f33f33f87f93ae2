import { z } from 'zod'

/** The two kinds of repository lock: many `shared` locks may coexist, an `exclusive` one excludes all others. */
export type LockKind = 'shared' | 'exclusive'

/**
 * The timing of restic's locks. The defaults are restic's; other values are for tests and for
 * repositories used only by clients that agree on them.
 */
export const LockTimingSchema = z.object({
  /** How often a held lock is refreshed (a new lock file written, the old one removed). Default 5 minutes. */
  refreshIntervalMs: z.number().positive().default(5 * 60_000),
  /** Age after which another client may consider a lock stale. Default 30 minutes. */
  staleAfterMs: z.number().positive().default(30 * 60_000),
  /** Wait between writing a lock and looking again for conflicting ones. Default 200 ms. */
  recheckDelayMs: z.number().nonnegative().default(200),
  /** First wait before trying again when waiting for a lock (`retryLockMs`); doubles each time. Default 5 s. */
  retrySleepStartMs: z.number().positive().default(5_000),
  /** Longest wait between tries when waiting for a lock. Default 60 s. */
  retrySleepMaxMs: z.number().positive().default(60_000),
})

/** Lock timing; see {@link LockTimingSchema} for the defaults. */
export type LockTiming = z.input<typeof LockTimingSchema>

/** Lock timing with every default filled in. */
export type ResolvedLockTiming = z.output<typeof LockTimingSchema>

/**
 * How long a held lock may go without a successful refresh before it counts as lost: the stale age
 * less one and a half refresh intervals (22.5 minutes by default), so that it is given up before
 * other clients may call it stale, with room for clocks that differ a little.
 */
export function refreshDeadlineMs(t: ResolvedLockTiming): number {
  return Math.max(t.refreshIntervalMs, t.staleAfterMs - 1.5 * t.refreshIntervalMs)
}
