import { localOffsetMinutes, parseGoTime } from '../../repofile/goTime.js'
import type { CalendarDuration } from './CalendarDuration.js'
import { floorDiv } from '../../util/floorDiv.js'

/**
 * A snapshot's time as restic's `forget` sees it: the instant, and the calendar fields of the wall clock
 * in the zone the time was written in (`…+02:00` counts days, weeks and months at +02:00, whatever this
 * machine's zone is).
 */
export interface SnapshotClock {
  /** The instant, in Unix nanoseconds. */
  unixNs: bigint
  /** The written zone: east of UTC, in minutes. */
  offsetMinutes: number
  /**
   * How Go reads the zone, which decides how calendar arithmetic crosses daylight-saving changes: `utc`
   * (written `Z`), `local` (the offset is this process's zone's at that instant, so Go uses that zone),
   * or `fixed`.
   */
  zone: 'utc' | 'local' | 'fixed'
  year: number
  /** 1–12. */
  month: number
  /** 1–31. */
  day: number
  /** 0–23. */
  hour: number
  /** 0–59. */
  minute: number
  /** The ISO 8601 week-numbering year and week (1–53), as Go's `ISOWeek`. */
  isoYear: number
  isoWeek: number
}

const NS_PER_MS = 1_000_000n
const NS_PER_S = 1_000_000_000n


/** A UTC `Date` for the proleptic Gregorian date (month 1–12; days and months out of range roll over). */
function utcDate(year: number, month: number, day: number): Date {
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  return d
}

/** The ISO week-numbering year and week of a calendar date. */
function isoWeek(year: number, month: number, day: number): [number, number] {
  const d = utcDate(year, month, day)
  const weekday = d.getUTCDay() || 7
  const thursday = utcDate(year, month, day + 4 - weekday)
  const y = thursday.getUTCFullYear()
  const dayOfYear = Math.round((thursday.getTime() - utcDate(y, 1, 1).getTime()) / 86_400_000)
  return [y, Math.floor(dayOfYear / 7) + 1]
}

/** Reads a snapshot time (RFC 3339) into its {@link SnapshotClock}. */
export function snapshotClock(time: string): SnapshotClock {
  const { unixNs, offsetMinutes } = parseGoTime(time)
  const zone = time.endsWith('Z') ? 'utc' : localOffsetMinutes(unixNs) === offsetMinutes ? 'local' : 'fixed'
  const wall = new Date(Number(floorDiv(unixNs, NS_PER_MS)) + offsetMinutes * 60_000)
  const year = wall.getUTCFullYear()
  const month = wall.getUTCMonth() + 1
  const day = wall.getUTCDate()
  const [isoY, isoW] = isoWeek(year, month, day)
  return { unixNs, offsetMinutes, zone, year, month, day, hour: wall.getUTCHours(), minute: wall.getUTCMinutes(), isoYear: isoY, isoWeek: isoW }
}

/**
 * The instant `d` before `clock`, as restic computes `t.AddDate(-years, -months, -days).Add(-hours)`:
 * the calendar part moves the wall clock in the time's zone (then normalised, 31 March - 1 month = 3 March)
 * and, for a local time, takes that zone's offset at the new date as Go's `time.Date` does; hours,
 * minutes and seconds are then subtracted exactly.
 */
export function instantBefore(clock: SnapshotClock, d: CalendarDuration): bigint {
  const wallNs = clock.unixNs + BigInt(clock.offsetMinutes * 60) * NS_PER_S
  const wallSec = floorDiv(wallNs, NS_PER_S)
  const nsec = wallNs - wallSec * NS_PER_S
  const secOfDay = Number(wallSec - floorDiv(wallSec, 86_400n) * 86_400n)
  const date = utcDate(clock.year - d.years, clock.month - d.months, clock.day - d.days)
  // a span reaching past the dates JavaScript holds (about 273,000 years back) starts before every snapshot
  if (Number.isNaN(date.getTime())) return -(1n << 100n)
  const newWallSec = BigInt(date.getTime() / 1000 + secOfDay)
  let offsetSec: bigint
  if (clock.zone === 'local') {
    // Go's time.Date: the offset in effect at the wall time read as UTC, unless the instant that gives lies
    // in another zone period; then that period's offset (which is the offset at that instant either way).
    const guess = BigInt(localOffsetMinutes(newWallSec * NS_PER_S) * 60)
    offsetSec = BigInt(localOffsetMinutes((newWallSec - guess) * NS_PER_S) * 60)
  } else {
    offsetSec = BigInt(clock.offsetMinutes * 60)
  }
  const exactSec = BigInt(d.hours * 3600 + d.minutes * 60 + d.seconds)
  return (newWallSec - offsetSec - exactSec) * NS_PER_S + nsec
}
