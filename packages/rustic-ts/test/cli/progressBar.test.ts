import { describe, expect, it } from 'vitest'
import { humanBytes, progressLine } from '../../src/cli/progressBar.js'

describe('progress lines', () => {
  const start = 1_000_000
  it('before the total is known: a spinner and the count so far, no percentage and no total', () => {
    const line = progressLine({ kind: 'bytes', title: 'backing up', value: 2048, total: undefined, start }, start + 1000)
    expect(line).toMatch(/^backing up [|/\\-] 2\.00 KiB 2\.00 KiB\/s$/)
    expect(line).not.toMatch(/\d+%/)
    expect(progressLine({ kind: 'counter', title: 'reading index', value: 3, total: undefined, start }, start)).toBe('reading index | 3')
  })

  it('once the total is known: a bar, the percentage and done/total', () => {
    const line = progressLine({ kind: 'bytes', title: 'backing up', value: 512, total: 2048, start }, start + 1000)
    expect(line).toBe(`backing up [${'#'.repeat(8)}${'-'.repeat(22)}] 25% 512 B/2.00 KiB 512 B/s`)
    expect(progressLine({ kind: 'counter', title: 'reading index', value: 3, total: 3, start }, start)).toBe(`reading index [${'#'.repeat(30)}] 100% 3/3`)
  })

  it('more done than the estimate: 100%, the real count', () => {
    expect(progressLine({ kind: 'counter', title: 't', value: 5, total: 4, start }, start)).toBe(`t [${'#'.repeat(30)}] 100% 5/4`)
  })

  it('a spinner never shows a total', () => {
    expect(progressLine({ kind: 'spinner', title: 'listing packs', value: 7, total: 10, start }, start + 250)).toBe('listing packs - 7')
  })

  it('humanBytes', () => {
    expect(humanBytes(0)).toBe('0 B')
    expect(humanBytes(1536)).toBe('1.50 KiB')
    expect(humanBytes(20 * 1024 * 1024)).toBe('20.0 MiB')
  })
})
