/**
 * restic's timestamps: Go `time.Time` values written as RFC 3339 with up to nine fraction digits
 * (`time.RFC3339Nano`), in the zone of the machine that made them. JS `Date` only holds
 * milliseconds, so times are carried as strings or as bigint nanoseconds.
 */
import { RusticError } from '../error/RusticError.js'
import { floorDiv } from '../util/floorDiv.js'

const NS_PER_S = 1_000_000_000n

/** Go's zero `time.Time` as restic writes it: what restic shows for a time a file lacks (e.g. a key file's `created`). */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z'


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
  if (quickCheck(s) === true) return quickFields(s)
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

/** The value of the two digits at `s[i]`, `s[i + 1]`, or -1 if they are not both digits. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/** {@link isGoTime} without a regex for the usual `YYYY-MM-DDTHH:MM:SS[.f…](Z|±hh:mm)`; `undefined` if unsure. */
function quickCheck(s: string): boolean | undefined {
  const n = s.length
  if (n < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) {
    return undefined
  }
  const y1 = twoDigits(s, 0)
  const y2 = twoDigits(s, 2)
  const month = twoDigits(s, 5)
  const day = twoDigits(s, 8)
  const hour = twoDigits(s, 11)
  const min = twoDigits(s, 14)
  const sec = twoDigits(s, 17)
  if (y1 < 0 || y2 < 0 || month < 0 || day < 0 || hour < 0 || min < 0 || sec < 0) return undefined
  if (month < 1 || month > 12 || day < 1) return false
  if (day > 28 && day > (month === 2 && isLeap(y1 * 100 + y2) ? 29 : MONTH_DAYS[month - 1]!)) return false
  if (hour > 23 || min > 59 || sec > 59) return false
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
  if ((c === 43 || c === 45) && p === n - 6 && s.charCodeAt(p + 3) === 58) return twoDigits(s, p + 1) >= 0 && twoDigits(s, p + 4) >= 0
  return false
}

/** The fields of a time {@link quickCheck} found valid, read without a regex (the usual case: snapshot and node times). */
function quickFields(s: string): GoTimeFields {
  const n = s.length
  let p = 19
  let frac = ''
  let c = s.charCodeAt(p)
  if (c === 46 || c === 44) {
    const start = ++p
    while (p < n && (c = s.charCodeAt(p)) >= 48 && c <= 57) p++
    frac = s.slice(start, Math.min(p, start + 9))
  }
  let offsetMinutes = 0
  if (c !== 90) {
    offsetMinutes = twoDigits(s, p + 1) * 60 + twoDigits(s, p + 4)
    if (c === 45) offsetMinutes = -offsetMinutes
  }
  return {
    year: twoDigits(s, 0) * 100 + twoDigits(s, 2),
    month: twoDigits(s, 5),
    day: twoDigits(s, 8),
    secOfDay: twoDigits(s, 11) * 3600 + twoDigits(s, 14) * 60 + twoDigits(s, 17),
    frac,
    offsetMinutes,
  }
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

/**
 * {@link parseGoTime} without `bigint`s: the instant of `s` as Unix seconds in `out[0]` and nanoseconds
 * (0 to 999,999,999) in `out[1]` (exact Numbers for any 4-digit year); false, and `out` unchanged, if `s` is
 * no time restic can read. For callers that read many times and need the `bigint` only later, if at all.
 */
export function goTimeUnixParts(s: string, out: Float64Array): boolean {
  if (quickCheck(s) === true) {
    // the usual form, read in place (no fields object, no fraction string)
    const n = s.length
    let p = 19
    let c = s.charCodeAt(p)
    let ns = 0
    if (c === 46 || c === 44) {
      let digits = 0
      while (++p < n && (c = s.charCodeAt(p)) >= 48 && c <= 57) {
        if (digits < 9) {
          ns = ns * 10 + (c - 48)
          digits++
        }
      }
      for (; digits < 9; digits++) ns *= 10
    }
    let offsetMinutes = 0
    if (c !== 90) {
      offsetMinutes = twoDigits(s, p + 1) * 60 + twoDigits(s, p + 4)
      if (c === 45) offsetMinutes = -offsetMinutes
    }
    const secOfDay = twoDigits(s, 11) * 3600 + twoDigits(s, 14) * 60 + twoDigits(s, 17)
    out[0] = daysFromCivil(twoDigits(s, 0) * 100 + twoDigits(s, 2), twoDigits(s, 5), twoDigits(s, 8)) * 86400 + secOfDay - offsetMinutes * 60
    out[1] = ns
    return true
  }
  const f = matchGoTime(s)
  if (typeof f === 'string') return false
  let ns = 0
  for (let i = 0; i < 9; i++) ns = ns * 10 + (i < f.frac.length ? f.frac.charCodeAt(i) - 48 : 0)
  out[0] = daysFromCivil(f.year, f.month, f.day) * 86400 + f.secOfDay - f.offsetMinutes * 60
  out[1] = ns
  return true
}

/**
 * An RFC 3339 time as Go prints it once parsed (`time.RFC3339Nano`, as restic shows snapshot and key
 * times): the same instant and offset, fraction digits without trailing zeros (rustic writes nine, e.g.
 * `…00.523952200+02:00` becomes `…00.5239522+02:00`), `Z` for a zero offset. Text that is no valid time
 * is returned unchanged.
 */
export function goTimeShortest(s: string): string {
  let t
  try {
    t = parseGoTime(s)
  } catch {
    return s
  }
  return formatGoTime(t.unixNs, t.offsetMinutes)
}

/** The instant of an RFC 3339 time as a JS `Date` (milliseconds, rounded down). */
export function goTimeToDate(s: string): Date {
  return new Date(Number(floorDiv(parseGoTime(s).unixNs, 1_000_000n)))
}

const MAX_DATE_MS = 8.64e15

/**
 * The local zone's offset east of UTC in whole seconds at the instant `ms` (Unix milliseconds within
 * the `Date` range): `getTimezoneOffset` for whole minutes, else (local mean time, e.g. +00:53:28, which
 * `getTimezoneOffset` rounds) from the local clock fields.
 */
function offsetSecondsAt(ms: number): number {
  const d = new Date(ms)
  const off = -d.getTimezoneOffset()
  if (d.getSeconds() === d.getUTCSeconds()) return off === 0 ? 0 : off * 60 // no -0
  // the local clock as if it were UTC (computed, not a Date: near the ends of its range it would overflow)
  const wallMs =
    daysFromCivil(d.getFullYear(), d.getMonth() + 1, d.getDate()) * 86_400_000 +
    ((d.getHours() * 60 + d.getMinutes()) * 60 + d.getSeconds()) * 1000 +
    d.getMilliseconds()
  return Math.round((wallMs - ms) / 1000)
}

/**
 * The offset east of UTC, in minutes, of this process's local time zone (`TZ`) at the instant `ns`
 * (Unix nanoseconds): what Go's `time.Local` uses when restic formats file times.
 */
export function localOffsetMinutes(ns: bigint): number {
  let ms = Number(floorDiv(ns, 1_000_000n))
  if (ms > MAX_DATE_MS) ms = MAX_DATE_MS
  if (ms < -MAX_DATE_MS) ms = -MAX_DATE_MS
  return offsetSecondsAt(ms) / 60
}

// ---------------------------------------------------------------------------------------------
// Fast local formatting. A node has two or three times, a backup walk formats tens of thousands:
// the zone offset is looked up once per UTC day (in the tz database, offsets change about four or more
// days apart, so a day holds at most one change, found by bisection), the date text once per local
// day, and the rest is plain number arithmetic.

/** The local zone during one UTC day: offset `a` (seconds) before second `t`, offset `b` from `t` on. */
interface ZoneDay {
  /** First second (Unix) of offset `b`; `Infinity` if the offset does not change that day. */
  t: number
  a: number
  b: number
  /** Go's zone suffix (`Z`, `+01:00`) of `a` and of `b`. */
  za: string
  zb: string
}

const DAY = 86400
/** Beyond ±1e11 s (±3100 years) times take the exact bigint path (and `Date`'s range ends at 8.64e12 s). */
const FAST_MAX_SEC = 1e11
/** Cache entries kept before a cache starts over. */
const CACHE_MAX = 16384

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => (i < 10 ? '0' : '') + i)

/** Go's zone suffix of RFC 3339 for an offset in seconds: `Z`, else `±hh:mm` (seconds cut, as Go prints). */
function zoneSuffix(offsetSec: number): string {
  if (offsetSec === 0) return 'Z'
  let zone = Math.trunc(offsetSec / 60)
  const sign = zone < 0 ? '-' : '+'
  zone = Math.abs(zone)
  return `${sign}${pad(Math.floor(zone / 60), 2)}:${pad(zone % 60, 2)}`
}

/** The `YYYY-MM-DDT` text of a day number, the year clamped to 0–9999 as restic's `FixTime` does. */
function fixedDatePrefix(days: number): string {
  let [y, m, d] = civilFromDays(days)
  if (y < 0 || y > 9999) [y, m, d] = civilFromDays(daysFromCivil(y < 0 ? 0 : 9999, m, d))
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T`
}

/** The local zone's offsets during UTC day `day` (see {@link ZoneDay}). */
function zoneDay(day: number): ZoneDay {
  const lo = day * DAY
  const hi = lo + DAY - 1
  const a = offsetSecondsAt(lo * 1000)
  const b = offsetSecondsAt(hi * 1000)
  let t = Infinity
  if (a !== b) {
    let l = lo
    t = hi
    while (t - l > 1) {
      const m = Math.floor((l + t) / 2)
      if (offsetSecondsAt(m * 1000) === a) l = m
      else t = m
    }
  }
  const za = zoneSuffix(a)
  return { t, a, b, za, zb: a === b ? za : zoneSuffix(b) }
}

/** Formats times in one zone (`TZ` value), caching its offsets and date texts. */
class LocalZoneFormat {
  private readonly days = new Map<number, ZoneDay>()
  private lastDay = NaN
  private lastZone: ZoneDay | undefined
  private readonly prefixes = new Map<number, string>()
  private lastWallDay = NaN
  private lastPrefix = ''
  /** The last local second formatted (Unix seconds + offset) and its `YYYY-MM-DDThh:mm:ss`. */
  private lastWall = NaN
  private lastWallText = ''

  constructor(
    /** The `TZ` value these caches hold offsets of. */
    readonly tz: string | undefined,
  ) {}

  /** {@link formatLocalGoTime} in this zone. */
  readonly format = (ns: bigint): string => {
    let sec = Number(ns / NS_PER_S)
    if (!(sec < FAST_MAX_SEC && sec > -FAST_MAX_SEC)) return formatGoTime(ns, localOffsetMinutes(ns), { fixYear: true })
    let nsec = Number(ns % NS_PER_S)
    if (nsec < 0) {
      nsec += 1e9
      sec--
    }

    const day = Math.floor(sec / DAY)
    let zone = this.lastZone
    if (day !== this.lastDay || zone === undefined) {
      zone = this.days.get(day)
      if (zone === undefined) {
        if (this.days.size >= CACHE_MAX) this.days.clear()
        this.days.set(day, (zone = zoneDay(day)))
      }
      this.lastDay = day
      this.lastZone = zone
    }
    let off: number
    let suffix: string
    if (sec < zone.t) {
      off = zone.a
      suffix = zone.za
    } else {
      off = zone.b
      suffix = zone.zb
    }

    const wall = sec + off
    let out: string
    if (wall === this.lastWall) out = this.lastWallText
    else {
      const wallDay = Math.floor(wall / DAY)
      let prefix = this.lastPrefix
      if (wallDay !== this.lastWallDay) {
        const cached = this.prefixes.get(wallDay)
        if (cached === undefined) {
          if (this.prefixes.size >= CACHE_MAX) this.prefixes.clear()
          this.prefixes.set(wallDay, (prefix = fixedDatePrefix(wallDay)))
        } else prefix = cached
        this.lastWallDay = wallDay
        this.lastPrefix = prefix
      }
      const sod = wall - wallDay * DAY
      const min = Math.floor(sod / 60)
      out = prefix + TWO_DIGITS[Math.floor(min / 60)]! + ':' + TWO_DIGITS[min % 60]! + ':' + TWO_DIGITS[sod - min * 60]!
      this.lastWall = wall
      this.lastWallText = out
    }
    if (nsec !== 0) {
      // nine digits behind a leading 1, trailing zeros cut
      const digits = String(1e9 + nsec)
      let end = 10
      while (digits.charCodeAt(end - 1) === 48) end--
      out += '.' + digits.slice(1, end)
    }
    return out + suffix
  }
}

let localZone = new LocalZoneFormat(process.env['TZ'])

/**
 * The formatter of {@link formatLocalGoTime} for the current `TZ`, to format several times at once
 * (e.g. a node's mtime, atime and ctime) with one look at `TZ` (which costs as much as formatting).
 */
export function localGoTimeFormatter(): (ns: bigint) => string {
  const tz = process.env['TZ']
  if (tz !== localZone.tz) localZone = new LocalZoneFormat(tz)
  return localZone.format
}

/**
 * Formats Unix nanoseconds as restic 0.14 writes a node time: in the local zone ({@link localOffsetMinutes},
 * following changes of `process.env.TZ`), with the year clamped to 0–9999 (restic's `FixTime`).
 */
export function formatLocalGoTime(ns: bigint): string {
  return localGoTimeFormatter()(ns)
}
