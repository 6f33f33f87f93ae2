import { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'
import { CalendarDurationSchema, isZeroDuration } from './CalendarDuration.js'

/** A count of periods to keep: N ≥ 1, or -1 for every period; 0 is the same as not giving the option. */
const count = z.number().int().min(-1).optional()
const within = CalendarDurationSchema.optional()

/** A tag list: an array, or a string with commas (`"a,b"` = a and b). */
const TagListSchema = z.union([z.string(), z.array(z.string())]).transform((v) => (typeof v === 'string' ? v.split(',').map((t) => t.trim()) : v))

/**
 * Which snapshots `forget` keeps in each group (rustic's `KeepOptions`, restic's `--keep-*`). A snapshot
 * is kept if any option keeps it. Counts keep the newest snapshot of each of the newest N periods
 * (hours, days, ISO weeks, …, in the zone each snapshot was written in); `-1` keeps one in every period.
 * `keepWithin*` durations count back from the newest snapshot that is not in the future (restic's rule),
 * as strings like restic's `1y5m7d2h` (m = months) or `{ days: 30 }`.
 */
export const KeepOptionsSchema = z.object({
  /** Keep snapshots having all tags of any of these lists (`[["a","b"],"c"]` = a and b, or c). */
  keepTags: z.array(TagListSchema).default([]),
  /** Keep snapshots whose id starts with any of these. */
  keepIds: z.array(z.string().regex(/^[0-9a-fA-F]+$/, 'expected a hex id or id prefix').transform((s) => s.toLowerCase())).default([]),
  /** Keep the N newest snapshots. */
  keepLast: count,
  /** Keep the newest snapshot of each of the last N minutes. */
  keepMinutely: count,
  /** Keep the newest snapshot of each of the last N hours. */
  keepHourly: count,
  /** Keep the newest snapshot of each of the last N days. */
  keepDaily: count,
  /** Keep the newest snapshot of each of the last N ISO weeks. */
  keepWeekly: count,
  /** Keep the newest snapshot of each of the last N months. */
  keepMonthly: count,
  /** Keep the newest snapshot of each of the last N quarters. */
  keepQuarterYearly: count,
  /** Keep the newest snapshot of each of the last N half-years. */
  keepHalfYearly: count,
  /** Keep the newest snapshot of each of the last N years. */
  keepYearly: count,
  /** Keep every snapshot newer than this before the newest. */
  keepWithin: within,
  /** Keep the newest snapshot of each minute within this duration of the newest. */
  keepWithinMinutely: within,
  /** Keep the newest snapshot of each hour within this duration of the newest. */
  keepWithinHourly: within,
  /** Keep the newest snapshot of each day within this duration of the newest. */
  keepWithinDaily: within,
  /** Keep the newest snapshot of each ISO week within this duration of the newest. */
  keepWithinWeekly: within,
  /** Keep the newest snapshot of each month within this duration of the newest. */
  keepWithinMonthly: within,
  /** Keep the newest snapshot of each quarter within this duration of the newest. */
  keepWithinQuarterYearly: within,
  /** Keep the newest snapshot of each half-year within this duration of the newest. */
  keepWithinHalfYearly: within,
  /** Keep the newest snapshot of each year within this duration of the newest. */
  keepWithinYearly: within,
  /** Allow keeping nothing: with no other option, every snapshot not protected by its delete policy goes. */
  keepNone: z.boolean().default(false),
  /** Remove a snapshot when the next older one of its group has the same tree (keeps the oldest of a run). */
  deleteUnchanged: z.boolean().default(false),
})

/** Keep options (input form: every field optional). */
export type KeepOptions = z.input<typeof KeepOptionsSchema>

/** Keep options with defaults applied. */
export type ResolvedKeepOptions = z.output<typeof KeepOptionsSchema>

const COUNTS = ['keepLast', 'keepMinutely', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepQuarterYearly', 'keepHalfYearly', 'keepYearly'] as const
const WITHINS = [
  'keepWithin',
  'keepWithinMinutely',
  'keepWithinHourly',
  'keepWithinDaily',
  'keepWithinWeekly',
  'keepWithinMonthly',
  'keepWithinQuarterYearly',
  'keepWithinHalfYearly',
  'keepWithinYearly',
] as const

/** True if any keep option is given (a count or duration that is not 0, a tag list, an id, or `keepNone`). */
export function hasKeepOption(k: ResolvedKeepOptions): boolean {
  return (
    k.keepNone ||
    k.keepTags.length > 0 ||
    k.keepIds.length > 0 ||
    COUNTS.some((c) => k[c] !== undefined && k[c] !== 0) ||
    WITHINS.some((w) => k[w] !== undefined && !isZeroDuration(k[w]))
  )
}

/**
 * Refuses keep options that keep nothing by accident: at least one count (not 0), duration (not 0), tag
 * list or id must be given, or `keepNone` to remove every snapshot on purpose (rustic's rule; restic 0.14
 * instead keeps everything when no policy is given).
 * @throws RusticError `InvalidInput`/`NoKeepOption`.
 */
export function checkKeepOptions(k: ResolvedKeepOptions): void {
  if (!hasKeepOption(k)) {
    throw new RusticError(
      'InvalidInput',
      'no keep option given, so forget would remove every snapshot: give at least one keep option (keep-last, keep-daily, keep-within, keep-tag, ...), or keep-none to remove them on purpose',
      { code: 'NoKeepOption' },
    )
  }
}
