import { describe, expect, it } from 'vitest'
import { CalendarDurationSchema, formatCalendarDuration, isRusticError, parseCalendarDuration } from '@rustic-ts/core/internal'

const d = (o: Partial<Record<'years' | 'months' | 'days' | 'hours' | 'minutes' | 'seconds', number>>) => ({
  years: 0, months: 0, days: 0, hours: 0, minutes: 0, seconds: 0, ...o,
})

describe('CalendarDuration', () => {
  it("reads restic's compact form (m = months) and words", () => {
    expect(parseCalendarDuration('1y5m7d2h')).toEqual(d({ years: 1, months: 5, days: 7, hours: 2 }))
    expect(parseCalendarDuration('1 year 2 months, 3 days 4h')).toEqual(d({ years: 1, months: 2, days: 3, hours: 4 }))
    expect(parseCalendarDuration('2w 90min 30s')).toEqual(d({ days: 14, minutes: 90, seconds: 30 }))
    expect(parseCalendarDuration('3mo1M')).toEqual(d({ months: 4 }))
    expect(formatCalendarDuration(parseCalendarDuration('1y5m7d2h'))).toBe('1y5m7d2h')
    expect(formatCalendarDuration(d({ days: 3, minutes: 5 }))).toBe('3d5min')
    expect(CalendarDurationSchema.parse({ days: 2 })).toEqual(d({ days: 2 }))
  })

  it('refuses bad text with InvalidDuration naming the option', () => {
    for (const bad of ['', '5', 'd5', '5x', '1y-2m', '1.5d']) {
      let err: unknown
      try {
        parseCalendarDuration(bad, '--keep-within')
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'InvalidDuration'), bad).toBe(true)
      expect((err as Error).message).toContain('--keep-within')
    }
  })
})
