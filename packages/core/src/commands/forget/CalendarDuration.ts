import { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'
import { zodParse } from '../../util/zodParse.js'

/**
 * A span of calendar time, as the `keepWithin*` options take it: years, months and days count on the
 * calendar (a month back from 31 March is 3 March, as Go's `AddDate` normalises), hours, minutes and
 * seconds are exact.
 */
export interface CalendarDuration {
  years: number
  months: number
  days: number
  hours: number
  minutes: number
  seconds: number
}

const UNITS: Record<string, [keyof CalendarDuration, number]> = {}
for (const [field, factor, names] of [
  ['years', 1, 'y yr yrs year years'],
  ['months', 1, 'm mo mos month months M'],
  ['days', 7, 'w week weeks'],
  ['days', 1, 'd day days'],
  ['hours', 1, 'h hr hrs hour hours'],
  ['minutes', 1, 'min mins minute minutes'],
  ['seconds', 1, 's sec secs second seconds'],
] as const) {
  for (const name of names.split(' ')) UNITS[name] = [field, factor]
}

/**
 * Parses a duration as restic's `--keep-within` takes it (`1y5m7d2h`: `m` is **months**, as in restic)
 * or with words (`1 year 2 months`, `36h`, `2w`, `90min`, `30s`).
 * @param what - names the option in the error (`--keep-within`).
 * @throws RusticError `InvalidInput`/`InvalidDuration`.
 */
export function parseCalendarDuration(text: string, what = 'duration'): CalendarDuration {
  const d: CalendarDuration = { years: 0, months: 0, days: 0, hours: 0, minutes: 0, seconds: 0 }
  const rest = text.trim().replace(/(\d+)\s*([a-zA-Z]+)\s*,?\s*/g, (_all, num: string, unit: string) => {
    const u = UNITS[unit] ?? UNITS[unit.toLowerCase()]
    if (u === undefined) throw badDuration(text, what, `unknown unit "${unit}"`)
    d[u[0]] += Number(num) * u[1]
    return ''
  })
  if (rest !== '' || text.trim() === '') throw badDuration(text, what, 'expected numbers with units, e.g. 1y5m7d2h (m = months), 30d, 36h, 2 weeks')
  for (const v of Object.values(d)) if (!Number.isSafeInteger(v)) throw badDuration(text, what, 'a number is too large')
  return d
}

function badDuration(text: string, what: string, why: string): RusticError {
  return new RusticError('InvalidInput', `invalid ${what} "${text}": ${why}`, { code: 'InvalidDuration' })
}

/** True if every field is 0 (restic's `Duration.Zero`): such a `keepWithin*` option does nothing. */
export function isZeroDuration(d: CalendarDuration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0 && d.minutes === 0 && d.seconds === 0
}

/** The duration as restic prints it (`1y5m7d2h`, fields that are 0 left out), then `30min`, `10s` for the rest. */
export function formatCalendarDuration(d: CalendarDuration): string {
  let s = ''
  if (d.years !== 0) s += `${d.years}y`
  if (d.months !== 0) s += `${d.months}m`
  if (d.days !== 0) s += `${d.days}d`
  if (d.hours !== 0) s += `${d.hours}h`
  if (d.minutes !== 0) s += `${d.minutes}min`
  if (d.seconds !== 0) s += `${d.seconds}s`
  return s
}

const readDuration = zodParse((text) => parseCalendarDuration(text))

const field = z.number().int().nonnegative().default(0)

/** zod schema of a {@link CalendarDuration}: the object (missing fields 0) or a string {@link parseCalendarDuration} reads. */
export const CalendarDurationSchema = z
  .union([
    z.string(),
    z.object({ years: field, months: field, days: field, hours: field, minutes: field, seconds: field }),
  ])
  .transform((v, ctx) => (typeof v === 'string' ? readDuration(v, ctx) : v))
