import { describe, expect, it } from 'vitest'
import { randomId, type Id } from '@rustic-ts/core/internal'
import { parseReadDataSubset, selectPacks } from '../../../src/commands/check/readDataSubset.js'

const packs = Array.from({ length: 500 }, (_, i) => ({ id: randomId(), size: 1000 + i }))

describe('parseReadDataSubset', () => {
  it('reads restic 0.14 forms', () => {
    expect(parseReadDataSubset('2/5')).toEqual({ kind: 'group', n: 2, m: 5 })
    expect(parseReadDataSubset('12.5%')).toEqual({ kind: 'percent', percent: 12.5 })
    expect(parseReadDataSubset('10k')).toEqual({ kind: 'size', bytes: 10240 })
    expect(parseReadDataSubset('1G')).toEqual({ kind: 'size', bytes: 1024 ** 3 })
  })

  it.each(['0/5', '6/5', '1/257', '0%', '100.5%', 'x%', 'abc', '1/2/3', '0'])('refuses %s with InvalidOptions naming it', (s) => {
    expect(() => parseReadDataSubset(s)).toThrow(expect.objectContaining({ code: 'InvalidOptions', message: expect.stringContaining(`"${s}"`) }))
  })
})

describe('selectPacks', () => {
  it('groups 1/m .. m/m cover every pack exactly once, by the first byte of the id', () => {
    const seen = new Map<Id, number>()
    for (let n = 1; n <= 7; n++) {
      for (const p of selectPacks(packs, { kind: 'group', n, m: 7 })) {
        expect(parseInt(p.id.slice(0, 2), 16) % 7).toBe(n - 1)
        seen.set(p.id, (seen.get(p.id) ?? 0) + 1)
      }
    }
    expect(seen.size).toBe(packs.length)
    expect([...seen.values()].every((c) => c === 1)).toBe(true)
  })

  it('a percentage picks that share of the packs by count (at least one), without repeats', () => {
    const ten = selectPacks(packs, { kind: 'percent', percent: 10 })
    expect(ten).toHaveLength(50)
    expect(new Set(ten.map((p) => p.id)).size).toBe(50)
    expect(selectPacks(packs, { kind: 'percent', percent: 0.01 })).toHaveLength(1)
    expect(selectPacks(packs, { kind: 'percent', percent: 100 })).toHaveLength(500)
    expect(selectPacks([], { kind: 'percent', percent: 50 })).toHaveLength(0)
  })

  it('a size picks the same share of the packs as it is of their total size', () => {
    const total = packs.reduce((s, p) => s + p.size, 0)
    expect(selectPacks(packs, { kind: 'size', bytes: Math.floor(total / 4) })).toHaveLength(124)
    expect(selectPacks(packs, { kind: 'size', bytes: total * 10 })).toHaveLength(500)
  })

  it('is random: two picks differ', () => {
    const a = selectPacks(packs, { kind: 'percent', percent: 10 }).map((p) => p.id)
    const b = selectPacks(packs, { kind: 'percent', percent: 10 }).map((p) => p.id)
    expect(a).not.toEqual(b)
  })
})
