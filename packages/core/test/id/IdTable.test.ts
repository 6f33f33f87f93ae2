import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { IdTable } from '../../src/id/IdTable.js'

const idOf = (n: number): string => createHash('sha256').update(String(n)).digest('hex')

describe('IdTable', () => {
  it('numbers ids in the order they were added, finds them, and refuses a second copy', () => {
    const t = new IdTable()
    expect(t.indexOf(idOf(0))).toBe(-1)
    expect(t.add(idOf(0), 'test')).toBe(0)
    expect(t.add(idOf(1), 'test')).toBe(1)
    expect(t.add(idOf(0), 'test')).toBe(-1)
    expect(t.add(idOf(1), 'test')).toBe(-2)
    expect(t.size).toBe(2)
    expect(t.indexOf(idOf(1))).toBe(1)
    expect(t.id(0)).toBe(idOf(0))
  })

  it('keeps every id through growth (5,000 ids), with capacity at least the size', () => {
    const t = new IdTable()
    for (let i = 0; i < 5000; i++) {
      expect(t.add(idOf(i), 'test')).toBe(i)
      expect(t.capacity).toBeGreaterThanOrEqual(t.size)
    }
    for (let i = 0; i < 5000; i++) expect(t.indexOf(idOf(i))).toBe(i)
    for (let i = 5000; i < 5100; i++) expect(t.indexOf(idOf(i))).toBe(-1)
    expect(t.id(4321)).toBe(idOf(4321))
  })

  it('copies an id as its 32 bytes', () => {
    const t = new IdTable()
    t.add(idOf(7), 'test')
    const out = new Uint8Array(40)
    t.copyBytes(0, out, 8)
    expect(Buffer.from(out.subarray(8)).toString('hex')).toBe(idOf(7))
  })

  it('finds nothing for a string that is not a lower-case 64-digit hex id, and refuses to add one, naming what it was for', () => {
    const t = new IdTable()
    t.add(idOf(1), 'test')
    expect(t.indexOf(idOf(1).toUpperCase())).toBe(-1)
    expect(t.indexOf('abc')).toBe(-1)
    expect(() => t.add('z'.repeat(64), 'index blob')).toThrow(/^cannot index blob "z{64}": not a 64-digit hex id$/)
    expect(() => t.add(idOf(2).slice(1), 'plan blob')).toThrow(/cannot plan blob/)
    expect(t.size).toBe(1)
  })

  it('clear forgets every id', () => {
    const t = new IdTable()
    t.add(idOf(1), 'test')
    t.clear()
    expect(t.size).toBe(0)
    expect(t.indexOf(idOf(1))).toBe(-1)
    expect(t.add(idOf(1), 'test')).toBe(0)
  })

  it('adds ids given as hex digits inside a byte array as add does, and refuses anything else', () => {
    const t = new IdTable()
    const bytes = new TextEncoder().encode(`"${idOf(1)}","${idOf(2)}"`)
    expect(t.addHexBytes(bytes, 1, 'test')).toBe(0)
    expect(t.addHexBytes(bytes, 68, 'test')).toBe(1)
    expect(t.add(idOf(1), 'test')).toBe(-1)
    expect(t.indexOf(idOf(2))).toBe(1)
    expect(t.id(1)).toBe(idOf(2))
    expect(() => t.addHexBytes(bytes, 0, 'index blob')).toThrow(/cannot index blob "\\"/)
    expect(() => t.addHexBytes(bytes, 80, 'test')).toThrow(/not a 64-digit hex id/) // runs past the end
    expect(() => t.addHexBytes(new TextEncoder().encode(idOf(3).toUpperCase()), 0, 'test')).toThrow(/not a 64-digit hex id/)
    expect(t.size).toBe(2)
  })
})
