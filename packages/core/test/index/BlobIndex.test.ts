import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { BlobIndex, serializeIndex, type BlobLocation, type Id, type IndexFile } from '@rustic-ts/core/internal'
import { scanIndexBytes } from '../../src/repofile/scanIndexBytes.js'

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

  it('holds the same from index files read from their bytes (addScannedIndex) as from parsed ones', () => {
    const files: IndexFile[] = []
    for (let f = 0; f < 3; f++) {
      const packs = []
      for (let p = 0; p < 5; p++) {
        const blobs = []
        for (let b = 0; b < (p === 4 ? 0 : 7); b++) {
          // blob 0 of every file is the same: the first location added wins
          const id = b === 0 ? idOf('shared') : idOf(`blob ${f} ${p} ${b}`)
          blobs.push({ type: p % 2 === 0 ? ('tree' as const) : ('data' as const), id, offset: b * 100 + 2 ** 33 * (b % 2), length: 90 + b, ...(b % 3 ? {} : { uncompressedLength: 500 + b }) })
        }
        packs.push({ id: idOf(`pack ${f} ${p}`), blobs, ...(p === 1 ? { time: '2026-11-23T15:19:54Z', size: 4000 } : {}) })
      }
      files.push({ packs, supersedes: [idOf(`old ${f}`)], packsToDelete: f === 2 ? [{ id: idOf('gone'), blobs: [] }] : undefined })
    }
    const parsed = new BlobIndex()
    const scanned = new BlobIndex()
    for (const f of files) {
      parsed.addIndexFile(f)
      const s = scanIndexBytes(serializeIndex(f))
      expect(s).toBeDefined()
      scanned.addScannedIndex(s!)
    }
    for (const type of ['data', 'tree'] as const) expect([...scanned.entries(type)]).toEqual([...parsed.entries(type)])
    expect([...scanned.packs()]).toEqual([...parsed.packs()])
    expect([...scanned.packsToDelete()]).toEqual([idOf('gone')])
    for (const id of parsed.packs().keys()) expect(scanned.packExtent(id)).toBe(parsed.packExtent(id))
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

  it('addPack adds a pack\'s new blobs as add does and hands the ones already indexed to onKnown', () => {
    const [x, y, z] = [idOf('x'), idOf('y'), idOf('z')]
    const [a, b] = [idOf('pack a'), idOf('pack b')]
    const index = new BlobIndex()
    const known: string[] = []
    const onKnown = (blob: { id: Id; offset: number }): void => void known.push(`${blob.id}@${blob.offset}`)
    index.addPack(a, [
      { type: 'data', id: x, offset: 0, length: 10 },
      { type: 'data', id: y, offset: 10, length: 20, uncompressedLength: 50 },
      { type: 'data', id: x, offset: 30, length: 10 },
    ], onKnown)
    index.addPack(b, [
      { type: 'tree', id: x, offset: 0, length: 5 },
      { type: 'data', id: y, offset: 5, length: 20 },
      { type: 'data', id: z, offset: 25, length: 7 },
    ], onKnown)
    expect(known).toEqual([`${x}@30`, `${y}@5`])
    expect(index.get('data', x)).toEqual({ packId: a, offset: 0, length: 10 })
    expect(index.get('data', y)).toEqual({ packId: a, offset: 10, length: 20, uncompressedLength: 50 })
    expect(index.get('data', z)).toEqual({ packId: b, offset: 25, length: 7 })
    expect(index.get('tree', x)).toEqual({ packId: b, offset: 0, length: 5 })
    expect([...index.packs()]).toEqual([[a, 'data'], [b, 'tree']])
    expect([index.packExtent(a), index.packExtent(b)]).toEqual([30, 32])
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
