import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { BlobIndex, type BlobLocation, type Id } from '@rustic-ts/core/internal'

const idOf = (s: string): Id => createHash('sha256').update(s).digest('hex') as Id

describe('BlobIndex', () => {
  it('finds every blob of many index files, by type, with its pack, offset, lengths', () => {
    const index = new BlobIndex()
    const expected = new Map<string, BlobLocation>()
    for (let f = 0; f < 5; f++) {
      const packs = []
      for (let p = 0; p < 40; p++) {
        const packId = idOf(`pack ${f} ${p}`)
        const blobs = []
        for (let b = 0; b < 60; b++) {
          const type = p % 4 === 0 ? ('tree' as const) : ('data' as const)
          const id = idOf(`blob ${f} ${p} ${b}`)
          const loc: BlobLocation = { packId, offset: b * 1000 + 2 ** 33 * (b % 2), length: 900 + b }
          if (b % 3 === 0) loc.uncompressedLength = b === 0 ? 0 : 5000 + b
          blobs.push({ type, id, offset: loc.offset, length: loc.length, uncompressedLength: loc.uncompressedLength })
          expected.set(`${type}:${id}`, loc)
        }
        packs.push({ id: packId, blobs })
      }
      index.addIndexFile({ packs })
    }
    expect(index.count('data') + index.count('tree')).toBe(expected.size)
    for (const [key, loc] of expected) {
      const [type, id] = key.split(':') as ['data' | 'tree', Id]
      expect(index.get(type, id)).toEqual(loc)
      expect(index.has(type, id)).toBe(true)
      expect(index.has(type === 'data' ? 'tree' : 'data', id)).toBe(false)
    }
    expect(index.packs().size).toBe(200)
    expect(index.packs().get(idOf('pack 0 0'))).toBe('tree')
    expect(index.packs().get(idOf('pack 0 1'))).toBe('data')
    expect(index.packExtent(idOf('pack 1 2'))).toBe(59 * 1000 + 2 ** 33 + 959)
    // iteration: every blob once, in the order added
    const seen = [...index.entries('data')]
    expect(seen.length).toBe(index.count('data'))
    expect(seen[0]![0]).toBe(idOf('blob 0 1 0'))
    for (const [id, loc] of seen) expect(loc).toEqual(expected.get(`data:${id}`))
    expect([...index.locations('tree')]).toEqual([...index.entries('tree')].map(([, l]) => l))
  })

  it('keeps the first location of a blob added twice, and misses what is not there', () => {
    const index = new BlobIndex()
    const id = idOf('x')
    const a = idOf('pack a')
    const b = idOf('pack b')
    index.add('data', id, { packId: a, offset: 10, length: 20 })
    index.add('data', id, { packId: b, offset: 0, length: 20, uncompressedLength: 40 })
    expect(index.get('data', id)).toEqual({ packId: a, offset: 10, length: 20 })
    expect(index.count('data')).toBe(1)
    expect([...index.packs().keys()]).toEqual([a, b])
    expect(index.get('data', idOf('y'))).toBeUndefined()
    expect(index.get('data', id.toUpperCase() as Id)).toBeUndefined()
    expect(index.get('data', id.slice(1) as Id)).toBeUndefined()
    expect(index.has('data', 'not an id' as Id)).toBe(false)
    expect(() => index.add('data', 'not an id' as Id, { packId: a, offset: 0, length: 1 })).toThrow(/not a 64-digit hex id/)
    index.clear()
    expect(index.count('data')).toBe(0)
    expect(index.get('data', id)).toBeUndefined()
    expect(index.packs().size).toBe(0)
    index.add('tree', id, { packId: b, offset: 1, length: 2 })
    expect(index.get('tree', id)).toEqual({ packId: b, offset: 1, length: 2 })
  })

  it('finds ids that share all but a few bits', () => {
    const index = new BlobIndex()
    const pack = idOf('p')
    const ids: Id[] = []
    for (let i = 0; i < 5000; i++) {
      const id = ('0'.repeat(56) + i.toString(16).padStart(8, '0')) as Id
      ids.push(id)
      index.add('data', id, { packId: pack, offset: i, length: 1 })
    }
    for (let i = 0; i < 5000; i++) expect(index.get('data', ids[i]!)?.offset).toBe(i)
    expect(index.has('data', ('1' + '0'.repeat(63)) as Id)).toBe(false)
  })
})
