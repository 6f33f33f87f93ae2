import { describe, expect, it } from 'vitest'
import { isRusticError, parseIndex, serializeIndex, type Id, type IndexFile } from '@rustic-ts/core/internal'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const id = (c: string): Id => c.repeat(64) as Id

describe('index file', () => {
  it('round-trips restic 0.14 index JSON byte for byte (trailing newline, uncompressed_length only when set)', () => {
    const text =
      `{"supersedes":["${id('9')}"],"packs":[{"id":"${id('a')}","blobs":[{"id":"${id('b')}","type":"data","offset":0,"length":53,"uncompressed_length":12},` +
      `{"id":"${id('c')}","type":"data","offset":53,"length":44}]},{"id":"${id('d')}","blobs":[{"id":"${id('e')}","type":"tree","offset":0,"length":300}]}]}\n`
    const f = parseIndex(enc(text), 'index')
    expect(f.supersedes).toEqual([id('9')])
    expect(f.packs[0]!.blobs[0]).toEqual({ id: id('b'), type: 'data', offset: 0, length: 53, uncompressedLength: 12 })
    expect(f.packs[0]!.blobs[1]).toEqual({ id: id('c'), type: 'data', offset: 53, length: 44 })
    expect(dec(serializeIndex(f))).toBe(text)
  })

  it('writes and reads rustic\'s packs_to_delete with time and size; omits empty lists', () => {
    const f: IndexFile = {
      supersedes: [],
      packs: [],
      packsToDelete: [{ id: id('a'), blobs: [], time: '2026-11-23T15:24:37.5+01:00', size: 1234 }],
    }
    const text = dec(serializeIndex(f))
    expect(text).toBe(`{"packs":[],"packs_to_delete":[{"id":"${id('a')}","blobs":[],"time":"2026-11-23T15:24:37.5+01:00","size":1234}]}\n`)
    expect(parseIndex(enc(text), 'index')).toEqual({ packs: [], packsToDelete: f.packsToDelete })
    const stored: IndexFile = { packs: [{ id: id('b'), blobs: [{ id: id('c'), type: 'data', offset: 0, length: 9 }], time: '2026-11-23T15:24:37Z', size: 99 }] }
    expect(parseIndex(serializeIndex(stored), 'index')).toEqual(stored)
    expect(dec(serializeIndex({ packs: [] }))).toBe('{"packs":[]}\n')
    expect(parseIndex(enc('{"packs":null}'), 'index')).toEqual({ packs: [] })
  })

  it('writes text longer than its first estimate and non-ASCII times as JSON.stringify would', () => {
    const time = 'é€😀'.repeat(200)
    const blobs = Array.from({ length: 3000 }, (_, i) => ({ id: i.toString(16).padStart(64, '0') as Id, type: 'data' as const, offset: i * 1e9, length: 2 ** 31 + i, uncompressedLength: 2 ** 40 }))
    const f: IndexFile = { packs: [{ id: id('a'), blobs, time }, { id: id('b'), blobs: [], time }] }
    const text = dec(serializeIndex(f))
    const expected = {
      packs: f.packs.map((p) => ({ id: p.id, blobs: p.blobs.map((b) => ({ id: b.id, type: b.type, offset: b.offset, length: b.length, uncompressed_length: b.uncompressedLength })), time })),
    }
    expect(text).toBe(JSON.stringify(expected) + '\n')
  })

  it('normalises unusual but valid forms (upper-case ids, nulls) like the canonical ones', () => {
    const canonical = `{"packs":[{"id":"${id('a')}","blobs":[{"id":"${id('b')}","type":"tree","offset":0,"length":5,"uncompressed_length":0}]}]}`
    const unusual = `{"supersedes":null,"packs":[{"id":"${id('A')}","blobs":[{"id":"${id('B')}","type":"tree","offset":0,"length":5,"uncompressed_length":null}]}],"packs_to_delete":[]}`
    const expected: IndexFile = { packs: [{ id: id('a'), blobs: [{ id: id('b'), type: 'tree', offset: 0, length: 5 }] }] }
    expect(parseIndex(enc(canonical), 'index')).toEqual(expected)
    expect(parseIndex(enc(unusual), 'index')).toEqual(expected)
  })

  it("reads restic's legacy format (a bare array of packs) on the fast path and the general one", () => {
    const legacy = `[{"id":"${id('a')}","blobs":[{"id":"${id('b')}","type":"data","offset":0,"length":53},{"id":"${id('c')}","type":"tree","offset":53,"length":40}]}]`
    const expected: IndexFile = {
      packs: [{ id: id('a'), blobs: [{ id: id('b'), type: 'data', offset: 0, length: 53 }, { id: id('c'), type: 'tree', offset: 53, length: 40 }] }],
      legacyFormat: true,
    }
    expect(parseIndex(enc(legacy), 'index')).toEqual(expected)
    // upper-case ids are not for the fast path: the zod schema reads them
    expect(parseIndex(enc(legacy.replace(id('a'), id('A'))), 'index')).toEqual(expected)
    // written back in the current form
    expect(dec(serializeIndex(expected))).toBe(`{"packs":${legacy}}\n`)
    expect(parseIndex(enc('[]'), 'index')).toEqual({ packs: [], legacyFormat: true })
    let err: unknown
    try {
      parseIndex(enc(`[{"id":"${id('a')}","blobs":[{"id":"x"}]}]`), 'index 1a2b3c4d')
    } catch (e) {
      err = e
    }
    expect(isRusticError(err, 'DecodeError')).toBe(true)
    expect((err as Error).message).toContain('index 1a2b3c4d')
  })

  it('rejects malformed indexes with DecodeError naming the file', () => {
    for (const text of [
      '{"packs":[{"id":"xx","blobs":[]}]}',
      `{"packs":[{"id":"${id('a')}","blobs":[{"id":"${id('b')}","type":"blob","offset":0,"length":1}]}]}`,
      `{"packs":[{"id":"${id('a')}","blobs":[{"id":"${id('b')}","type":"data","offset":-1,"length":1}]}]}`,
      `{"packs":[{"id":"${id('a')}","blobs":[{"id":"${id('b')}","type":"data","offset":0}]}]}`,
      '{"packs":{}}',
      `{"packs":[{"id":"${id('a')}","blobs":[],"time":"yesterday"}]}`,
      `{"packs":[{"id":"${id('a')}","blobs":[],"time":5}]}`,
      '',
    ]) {
      let err: unknown
      try {
        parseIndex(enc(text), 'index 1a2b3c4d')
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'DecodeError')).toBe(true)
      expect((err as Error).message).toContain('index 1a2b3c4d')
    }
  })
})
