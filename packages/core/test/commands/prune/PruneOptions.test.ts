import { describe, expect, it } from 'vitest'
import { isRusticError, parsePruneOptions, parseSizeLimit, type PruneOptions } from '@rustic-ts/core/internal'

describe('prune options', () => {
  it('read limits and durations as restic and rustic write them', () => {
    expect(parseSizeLimit('5%')).toEqual({ kind: 'percent', percent: 5 })
    expect(parseSizeLimit('2.5 %')).toEqual({ kind: 'percent', percent: 2.5 })
    expect(parseSizeLimit('10M')).toEqual({ kind: 'bytes', bytes: 10 * 2 ** 20 })
    expect(parseSizeLimit('1GiB')).toEqual({ kind: 'bytes', bytes: 2 ** 30 })
    expect(parseSizeLimit(500)).toEqual({ kind: 'bytes', bytes: 500 })
    expect(parseSizeLimit('unlimited')).toEqual({ kind: 'unlimited' })
    expect(parsePruneOptions({ keepDelete: '1h30m', keepPack: '2d', maxRepack: '20%' })).toMatchObject({
      maxUnused: { kind: 'percent', percent: 5 },
      maxRepack: { kind: 'percent', percent: 20 },
      keepDelete: 90 * 60_000,
      keepPack: 2 * 86_400_000,
      instantDelete: false,
    })
    expect(parsePruneOptions(undefined)).toMatchObject({ keepDelete: 23 * 3_600_000, keepPack: 0, maxRepack: { kind: 'percent', percent: 10 } })
  })

  it('refuse invalid values with one InvalidOptions line naming each field', () => {
    for (const [opts, field] of [
      [{ maxUnused: '100%' }, 'maxUnused'],
      [{ maxUnused: 'lots' }, 'maxUnused'],
      [{ maxRepack: -1 }, 'maxRepack'],
      [{ keepDelete: 'soon' }, 'keepDelete'],
      [{ fastRepack: true, repackUncompressed: true }, 'fastRepack'],
      [{ maxUnsed: '5%' }, 'maxUnsed'],
    ] as const) {
      let err: unknown
      try {
        parsePruneOptions(opts as PruneOptions)
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'InvalidOptions'), String(err)).toBe(true)
      expect((err as Error).message).toMatch(/^invalid prune options: /)
      expect((err as Error).message).toContain(field)
    }
  })
})
