import { describe, expect, it } from 'vitest'
import { isRusticError, parseUserTime } from '@rustic-ts/core/internal'

describe('parseUserTime', () => {
  it('reads RFC 3339 with a zone, and dates and times without one as local time', () => {
    expect(parseUserTime('2024-05-01T12:00:00+02:00').toISOString()).toBe('2024-05-01T10:00:00.000Z')
    expect(parseUserTime('2024-05-01 12:00:00Z').toISOString()).toBe('2024-05-01T12:00:00.000Z')
    expect(parseUserTime('2024-05-01T12:00:00.5-0130').toISOString()).toBe('2024-05-01T13:30:00.500Z')
    expect(parseUserTime('2024-05-01').getTime()).toBe(new Date(2024, 4, 1).getTime())
    expect(parseUserTime('2024-05-01 12:34').getTime()).toBe(new Date(2024, 4, 1, 12, 34).getTime())
    expect(parseUserTime(' 2024-05-01 12:34:56 ').getTime()).toBe(new Date(2024, 4, 1, 12, 34, 56).getTime())
  })

  it('refuses anything else with InvalidTime naming the option', () => {
    for (const bad of ['yesterday', '2024-02-30', '2024-05-01T25:00', '', '2024/05/01']) {
      const e = (() => {
        try {
          return parseUserTime(bad, '--filter-after')
        } catch (err) {
          return err
        }
      })()
      expect(isRusticError(e, 'InvalidTime'), bad).toBe(true)
      expect((e as Error).message).toContain('--filter-after')
    }
  })
})
