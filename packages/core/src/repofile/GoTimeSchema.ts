import { z } from 'zod'
import { formatGoTime, isGoTime } from './goTime.js'

/** zod schema of an RFC 3339 time as Go writes it (`2026-11-23T15:19:54.843040384Z`, `…+02:00`), kept as the original string. */
export const GoTimeSchema = z.string().refine(isGoTime, 'expected an RFC 3339 time')

/**
 * `date` as Go's RFC3339Nano in UTC (`2026-11-23T15:19:54.843040384Z`; trailing zeros of the fraction cut).
 * @param extraNanos - nanoseconds (0–999999) below the date's millisecond, e.g. from an `fs.Stats` `…Ns` field.
 */
export function goTimeFromDate(date: Date, extraNanos = 0): string {
  const ms = date.getTime()
  if (!Number.isFinite(ms)) throw new RangeError('cannot format an invalid Date')
  const sub = Math.min(999_999, Math.max(0, Math.trunc(extraNanos)))
  return formatGoTime(BigInt(ms) * 1_000_000n + BigInt(sub))
}

/** The current time as Go's RFC3339Nano in UTC, with sub-millisecond digits (as restic writes `time.Now()`). */
export function nowGoTime(): string {
  const t = performance.timeOrigin + performance.now()
  const ms = Math.floor(t)
  return goTimeFromDate(new Date(ms), Math.floor((t - ms) * 1e6))
}
