import { afterEach, describe, expect, it } from 'vitest'
import { parseCalendarDuration } from '@rustic-ts/core/internal'
import { instantBefore, snapshotClock } from '../../../src/commands/forget/SnapshotClock.js'

const savedTz = process.env['TZ']
afterEach(() => {
  process.env['TZ'] = savedTz
})

const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString()

describe('SnapshotClock', () => {
  it('counts calendar fields in the zone the time was written in', () => {
    process.env['TZ'] = 'UTC'
    const c = snapshotClock('2023-12-31T23:30:00-05:00')
    expect([c.year, c.month, c.day, c.hour, c.minute]).toEqual([2023, 12, 31, 23, 30])
    expect(c.zone).toBe('fixed')
    expect(snapshotClock('2024-01-01T04:30:00Z').zone).toBe('utc')
  })

  it('ISO weeks as Go: year-end days belong to the neighbouring ISO year', () => {
    const week = (t: string): [number, number] => {
      const c = snapshotClock(t)
      return [c.isoYear, c.isoWeek]
    }
    expect(week('2021-01-03T12:00:00Z')).toEqual([2020, 53])
    expect(week('2021-01-04T12:00:00Z')).toEqual([2021, 1])
    expect(week('2024-12-30T12:00:00Z')).toEqual([2025, 1])
    expect(week('2020-12-31T12:00:00Z')).toEqual([2020, 53])
    expect(week('2023-06-15T12:00:00Z')).toEqual([2023, 24])
  })

  it("goes back like Go's AddDate: normalising month ends, hours exact", () => {
    process.env['TZ'] = 'UTC'
    expect(iso(instantBefore(snapshotClock('2023-03-31T10:00:00Z'), parseCalendarDuration('1m')))).toBe('2023-03-03T10:00:00.000Z')
    expect(iso(instantBefore(snapshotClock('2024-03-01T10:00:00+05:30'), parseCalendarDuration('1y1d2h')))).toBe('2023-02-28T02:30:00.000Z')
  })

  it('a span longer than JavaScript dates reach starts before every snapshot (no NaN)', () => {
    const clock = snapshotClock('2024-05-01T12:00:00Z')
    for (const text of ['99999999999999d', '9999999999y', '999999999999m']) {
      expect(instantBefore(clock, parseCalendarDuration(text)) < -(10n ** 27n), text).toBe(true)
    }
  })

  it('a time in the local zone crosses daylight-saving changes as Go does; a fixed offset does not', () => {
    process.env['TZ'] = 'America/New_York'
    const local = snapshotClock('2022-07-01T12:00:00-04:00')
    expect(local.zone).toBe('local')
    expect(iso(instantBefore(local, parseCalendarDuration('6m')))).toBe('2022-01-01T17:00:00.000Z')
    process.env['TZ'] = 'UTC'
    const fixed = snapshotClock('2022-07-01T12:00:00-04:00')
    expect(fixed.zone).toBe('fixed')
    expect(iso(instantBefore(fixed, parseCalendarDuration('6m')))).toBe('2022-01-01T16:00:00.000Z')
  })
})
