import { describe, expect, it } from 'vitest'
import { IndexFileText, parseIndex, serializeIndex, type Id, type IndexPack } from '@rustic-ts/core/internal'

const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const id = (c: string): Id => c.repeat(64) as Id
const pack = (c: string, n: number, time?: string): IndexPack => ({
  id: id(c),
  blobs: Array.from({ length: n }, (_, i) => ({ id: (c + i.toString(16).padStart(63, '0')) as Id, type: 'data' as const, offset: 100 * i, length: 100, ...(i % 2 ? { uncompressedLength: 300 } : {}) })),
  ...(time ? { time } : {}),
})

describe('IndexFileText', () => {
  it('is the index file serializeIndex writes, pack by pack, and stays valid as packs are added after bytes()', () => {
    const [a, b, c] = [pack('a', 3, '2024-01-02T03:04:05.123456789+01:00'), pack('b', 1), pack('c', 2)]
    const text = new IndexFileText(16) // grows past its first size
    expect(text.isEmpty).toBe(true)
    text.addPack(a)
    expect(dec(text.bytes())).toBe(dec(serializeIndex({ packs: [a] })))
    text.addPack(b)
    text.addPack(c)
    expect(text.isEmpty).toBe(false)
    expect(dec(text.bytes())).toBe(dec(serializeIndex({ packs: [a, b, c] })))
    expect(parseIndex(text.bytes(), 'index').packs).toEqual([a, b, c])
  })

  it('appends another text (a failed write and the packs added since), with packs to delete and supersedes', () => {
    const [a, b, c, d] = [pack('a', 2), pack('b', 1), pack('c', 2), pack('d', 1)]
    const first = new IndexFileText()
    first.addPack(a)
    first.addPackToDelete(c)
    const later = new IndexFileText()
    later.addPack(b)
    later.addPackToDelete(d)
    first.append(later)
    first.append(new IndexFileText()) // nothing
    const sup = [id('9')]
    expect(dec(first.bytes(sup))).toBe(dec(serializeIndex({ supersedes: sup, packs: [a, b], packsToDelete: [c, d] })))
    const onlyDelete = new IndexFileText()
    onlyDelete.append(later)
    expect(dec(onlyDelete.bytes())).toBe(dec(serializeIndex({ packs: [b], packsToDelete: [d] })))
    expect(dec(new IndexFileText().bytes())).toBe('{"packs":[]}\n')
  })
})
