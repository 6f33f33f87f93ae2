import { describe, expect, it } from 'vitest'
import { LruBlobCache } from '@rustic-ts/cache'

const bytes = (n: number): Uint8Array => new Uint8Array(n)

describe('LruBlobCache', () => {
  it('evicts the least recently used entries to stay within the byte budget', () => {
    const c = new LruBlobCache<string>({ maxBytes: 100 })
    c.set('a', bytes(40))
    c.set('b', bytes(40))
    expect(c.size).toBe(80)
    c.get('a') // a is now the most recently used
    c.set('c', bytes(40))
    expect(c.has('b')).toBe(false)
    expect(c.has('a')).toBe(true)
    expect(c.has('c')).toBe(true)
    expect(c.size).toBe(80)
    expect(c.count).toBe(2)
    expect([...c.keys()]).toEqual(['a', 'c'])
  })

  it('replaces entries, accounts sizes on delete and clear, and refuses oversized data', () => {
    const c = new LruBlobCache<string>({ maxBytes: 100 })
    c.set('a', bytes(10))
    c.set('a', bytes(30))
    expect(c.size).toBe(30)
    expect(c.set('huge', bytes(101))).toBe(false)
    expect(c.has('huge')).toBe(false)
    expect(c.size).toBe(30)
    expect(c.set('exact', bytes(70))).toBe(true)
    expect(c.size).toBe(100)
    expect(c.delete('a')).toBe(true)
    expect(c.delete('a')).toBe(false)
    expect(c.size).toBe(70)
    expect(c.get('missing')).toBeUndefined()
    c.clear()
    expect(c.size).toBe(0)
    expect(c.count).toBe(0)
  })

  it('evicts several small entries for one large one, and validates options', () => {
    const c = new LruBlobCache<string>({ maxBytes: 10 })
    for (let i = 0; i < 10; i++) c.set(`k${i}`, bytes(1))
    c.set('big', bytes(8))
    expect([...c.keys()]).toEqual(['k8', 'k9', 'big'])
    expect(c.size).toBe(10)
    expect(() => new LruBlobCache({ maxBytes: -1 })).toThrow(/invalid LRU cache options/)
  })
})
