/**
 * restic's timestamps: Go `time.Time` values written as RFC 3339 with up to nine fraction digits
 * (`time.RFC3339Nano`), in the zone of the machine that made them. JS `Date` only holds
 * milliseconds, so times are carried as strings or as bigint nanoseconds.
 */
import { RusticError } from '../error/RusticError.js'

const NS_PER_S = 1_000_000_000n

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12; days past the month's end roll over). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = (m + 9) % 12
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/** The proleptic Gregorian date of a day number (days since 1970-01-01). */
function civilFromDays(z: number): [year: number, month: number, day: number] {
  z += 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d]
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0')
  return n < 0 ? '-' + s : s
}

/** Options for {@link formatGoTime}. */
export interface GoTimeFormatOptions {
  /** Clamp the year to 0–9999 as restic's `FixTime` does before saving a node. */
  fixYear?: boolean
}

/**
 * Formats an instant like Go's `t.Format(time.RFC3339Nano)`: fraction digits with trailing zeros cut
 * (none for whole seconds), `Z` when the offset is zero, else `±hh:mm`.
 * @param ns - Unix time in nanoseconds.
 * @param utcOffsetMinutes - the zone offset east of UTC at that instant, in minutes (may be fractional
 *   for historical offsets with seconds, which Go prints truncated to minutes); 0 for UTC.
 * @param options - `fixYear` clamps the year to 0–9999 as restic's `FixTime` does.
 */
export function formatGoTime(ns: bigint, utcOffsetMinutes = 0, options: GoTimeFormatOptions = {}): string {
  const offsetSec = Math.round(utcOffsetMinutes * 60)
  const wall = ns + BigInt(offsetSec) * NS_PER_S
  const secs = floorDiv(wall, NS_PER_S)
  const frac = Number(wall - secs * NS_PER_S)
  const days = Number(floorDiv(secs, 86400n))
  const sod = Number(secs - BigInt(days) * 86400n)
  let [y, m, d] = civilFromDays(days)
  if (options.fixYear && (y < 0 || y > 9999)) {
    // Go's AddDate(±years, 0, 0): same month and day, normalised (Feb 29 -> Mar 1).
    const fixed = civilFromDays(daysFromCivil(y < 0 ? 0 : 9999, m, d))
    ;[y, m, d] = fixed
  }
  let out = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(Math.floor(sod / 3600), 2)}:${pad(Math.floor(sod / 60) % 60, 2)}:${pad(sod % 60, 2)}`
  if (frac !== 0) out += '.' + String(frac).padStart(9, '0').replace(/0+$/, '')
  if (offsetSec === 0) return out + 'Z'
  let zone = Math.trunc(offsetSec / 60)
  const sign = zone < 0 ? '-' : '+'
  zone = Math.abs(zone)
  return `${out}${sign}${pad(Math.floor(zone / 60), 2)}:${pad(zone % 60, 2)}`
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/

interface GoTimeFields {
  year: number
  month: number
  day: number
  secOfDay: number
  frac: string
  offsetMinutes: number
}

/** The fields of an RFC 3339 time as Go 1.19's `time.Parse(time.RFC3339, …)` accepts it, or a reason why not. */
function matchGoTime(s: string): GoTimeFields | string {
  const m = RFC3339.exec(s)
  if (!m) return 'expected RFC 3339 (e.g. 2022-08-01T12:34:56.123456789+02:00)'
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  const hour = Number(m[4])
  const min = Number(m[5])
  const sec = Number(m[6])
  if (month < 1 || month > 12) return 'month out of range'
  const mdays = month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1]!
  if (day < 1 || day > mdays) return 'day out of range'
  if (hour > 23) return 'hour out of range'
  if (min > 59) return 'minute out of range'
  if (sec > 59) return 'second out of range'
  let offsetMinutes = 0
  if (m[8] === undefined) {
    offsetMinutes = Number(m[10]) * 60 + Number(m[11])
    if (m[9] === '-') offsetMinutes = -offsetMinutes
  }
  return { year, month, day, secOfDay: hour * 3600 + min * 60 + sec, frac: (m[7] ?? '').slice(0, 9), offsetMinutes }
}

/** True if `s` is a time restic can read (see {@link parseGoTime}). */
export function isGoTime(s: string): boolean {
  const fast = quickCheck(s)
  return fast ?? typeof matchGoTime(s) !== 'string'
}

const DIGIT_POS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]

/** {@link isGoTime} without a regex for the usual `YYYY-MM-DDTHH:MM:SS[.f…](Z|±hh:mm)`; `undefined` if unsure. */
function quickCheck(s: string): boolean | undefined {
  const n = s.length
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return undefined
  }
  for (const i of DIGIT_POS) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) return undefined
  }
  const num = (i: number): number => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48
  const year = num(0) * 100 + num(2)
  const month = num(5)
  const day = num(8)
  if (month < 1 || month > 12 || day < 1) return false
  if (day > (month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1]!)) return false
  if (num(11) > 23 || num(14) > 59 || num(17) > 59) return false
  let p = 19
  let c = s.charCodeAt(p)
  if (c === 46 || c === 44) {
    p++
    const start = p
    while (p < n && (c = s.charCodeAt(p)) >= 48 && c <= 57) p++
    if (p === start) return false
    c = s.charCodeAt(p)
  }
  if (c === 90) return p === n - 1
  if ((c === 43 || c === 45) && p === n - 6 && s.charCodeAt(p + 3) === 58) {
    for (const i of [1, 2, 4, 5]) {
      const d = s.charCodeAt(p + i)
      if (d < 48 || d > 57) return false
    }
    return true
  }
  return false
}

/**
 * Parses an RFC 3339 time as restic (Go's `time.Parse(time.RFC3339, …)`) reads it: any number of
 * fraction digits (nanoseconds kept, further digits cut), `Z` or `±hh:mm`.
 * Throws a `RusticError` with code `DecodeError` on anything else.
 */
export function parseGoTime(s: string): { unixNs: bigint; offsetMinutes: number } {
  const f = matchGoTime(s)
  if (typeof f === 'string') {
    throw new RusticError('InvalidInput', `invalid time ${JSON.stringify(s.slice(0, 60))}: ${f}`, { code: 'DecodeError' })
  }
  const frac = f.frac === '' ? 0n : BigInt(f.frac.padEnd(9, '0'))
  const wallSecs = BigInt(daysFromCivil(f.year, f.month, f.day)) * 86400n + BigInt(f.secOfDay)
  const unixNs = (wallSecs - BigInt(f.offsetMinutes * 60)) * NS_PER_S + frac
  return { unixNs, offsetMinutes: f.offsetMinutes }
}

/** The instant of an RFC 3339 time as a JS `Date` (milliseconds, rounded down). */
export function goTimeToDate(s: string): Date {
  return new Date(Number(floorDiv(parseGoTime(s).unixNs, 1_000_000n)))
}

const MAX_DATE_MS = 8.64e15

/**
 * The offset east of UTC, in minutes, of this process's local time zone (`TZ`) at the instant `ns`
 * (Unix nanoseconds): what Go's `time.Local` uses when restic formats file times.
 */
export function localOffsetMinutes(ns: bigint): number {
  let ms = Number(floorDiv(ns, 1_000_000n))
  if (ms > MAX_DATE_MS) ms = MAX_DATE_MS
  if (ms < -MAX_DATE_MS) ms = -MAX_DATE_MS
  const d = new Date(ms)
  const off = -d.getTimezoneOffset()
  if (d.getSeconds() === d.getUTCSeconds()) return off === 0 ? 0 : off // whole minutes (no -0)
  // A historical offset with seconds (local mean time, e.g. +00:53:28): getTimezoneOffset rounds it,
  // the local clock fields do not.
  const wall = new Date(0)
  wall.setUTCFullYear(d.getFullYear(), d.getMonth(), d.getDate())
  wall.setUTCHours(d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds())
  return Math.round((wall.getTime() - ms) / 1000) / 60
}

/**
 * Formats Unix nanoseconds as restic 0.14 writes a node time: in the local zone ({@link localOffsetMinutes}),
 * with the year clamped to 0–9999 (restic's `FixTime`).
 */
export function formatLocalGoTime(ns: bigint): string {
  return formatGoTime(ns, localOffsetMinutes(ns), { fixYear: true })
}
