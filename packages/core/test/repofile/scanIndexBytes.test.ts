import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isRusticError, parseIndex, serializeIndex, type Id, type IndexFile } from '@rustic-ts/core/internal'
import { scanIndexBytes, scannedIndexFile } from '../../src/repofile/scanIndexBytes.js'

/** The scan as an index file, `undefined` where the scan gives up. */
const scan = (b: Uint8Array): IndexFile | undefined => {
  const s = scanIndexBytes(b)
  return s === undefined ? undefined : scannedIndexFile(s)
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const id = (c: string): Id => c.repeat(64) as Id

/** `parseIndex`'s general path (JSON.parse, then its checks): a leading space keeps the byte scan out. */
function general(text: string): unknown {
  try {
    return parseIndex(enc(` ${text}`), 'index 1a2b3c4d')
  } catch (e) {
    return isRusticError(e, 'DecodeError') ? 'DecodeError' : e
  }
}

describe('scanIndexBytes', () => {
  it('reads what restic and rustic write, as the general path does', () => {
    const text =
      `{"supersedes":["${id('9')}"],"packs":[{"id":"${id('a')}","blobs":[{"id":"${id('b')}","type":"data","offset":0,"length":53,"uncompressed_length":12},` +
      `{"id":"${id('c')}","type":"data","offset":53,"length":44,"uncompressed_length":0}]},{"id":"${id('d')}","blobs":[{"id":"${id('e')}","type":"tree","offset":0,"length":300}],"time":"2026-11-23T15:19:54.843040384+01:00","size":400}],` +
      `"packs_to_delete":[{"id":"${id('f')}","blobs":[],"time":"2026-11-23T15:19:54Z","size":0}]}\n`
    const scanned = scan(enc(text))
    expect(scanned).toBeDefined()
    expect(scanned).toEqual(general(text))
    expect(scanned!.packs[0]!.blobs[1]).toEqual({ id: id('c'), type: 'data', offset: 53, length: 44 })
  })

  it('leaves anything but the exact written form to the general path', () => {
    const ok = `{"packs":[{"id":"${id('a')}","blobs":[{"id":"${id('b')}","type":"data","offset":1,"length":2}]}]}`
    expect(scan(enc(ok))).toEqual(general(ok))
    for (const other of [
      ok.replace('"offset":1', '"offset": 1'), // spacing
      ok.replace(id('b'), id('B')), // upper-case id (valid: the general path lower-cases it)
      ok.replace('"offset":1', '"offset":01'),
      ok.replace('"offset":1', '"offset":1.0'),
      ok.replace('"length":2', '"length":9007199254740993'),
      ok.replace('"type":"data"', '"type":"dat\\u0061"'),
      ok.replace('"blobs":[', '"blobs":null,"x":['),
      `[${ok.slice(9, -2)}]`, // legacy form
      ok + 'x',
      ok.slice(0, -1),
      '',
    ]) {
      expect(scan(enc(other))).toBeUndefined()
    }
  })

  it('gives the general path\'s result for every index it reads (generated and mutated files)', () => {
    const hex = fc.constantFrom(id('a'), id('b'), id('0'), '0123456789abcdef'.repeat(4))
    const uint = fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 53 - 1))
    const blob = fc.record(
      { id: hex, type: fc.constantFrom('data' as const, 'tree' as const), offset: uint, length: uint, uncompressedLength: fc.option(fc.integer({ min: 1 }), { nil: undefined }) },
      { requiredKeys: ['id', 'type', 'offset', 'length'] },
    )
    const pack = fc.record(
      { id: hex, blobs: fc.array(blob, { maxLength: 3 }), time: fc.constantFrom('2026-11-23T15:19:54Z', '2026-02-30T00:00:00Z'), size: uint },
      { requiredKeys: ['id', 'blobs'] },
    )
    const file = fc.record(
      { supersedes: fc.array(hex, { maxLength: 2 }), packs: fc.array(pack, { maxLength: 3 }), packsToDelete: fc.array(pack, { maxLength: 2 }) },
      { requiredKeys: ['packs'] },
    )
    // a mutation: one character replaced, inserted or removed
    const mutation = fc.tuple(fc.nat(), fc.constantFrom('', '0', '9', '"', ',', ' ', '}', ']', 'A', '.', '-', 'e'), fc.boolean())
    fc.assert(
      fc.property(file, fc.option(mutation, { nil: undefined }), (f, m) => {
        let text = new TextDecoder().decode(serializeIndex(f as IndexFile))
        if (m !== undefined) {
          const at = m[0] % (text.length + 1)
          text = text.slice(0, at) + m[1] + text.slice(at + (m[2] ? 1 : 0))
        }
        const scanned = scan(enc(text))
        if (m === undefined && !text.includes('-02-30')) expect(scanned).toBeDefined()
        if (scanned !== undefined) expect(scanned).toEqual(general(text))
      }),
      { numRuns: 1000 },
    )
  })
})
