import { createHash, randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, test } from 'vitest'
import { isRusticError } from '../../src/error/index.js'
import { Chunker, ChunkerState, chunkerTables, parsePolynomial, polynomialDegree, polynomialMod } from '../../src/chunker/index.js'
import { goRandomBytes } from './goRand.js'
import { referenceChunks } from './referenceChunker.js'
import { CHUNKS_32MIB, CHUNKS_32MIB_AVG19, CHUNKS_ZEROS, type ExpectedChunk } from './resticVectors.js'

const TEST_POL = 0x3da3358b4dc173n
const ENGINES = ['wasm', 'js'] as const
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

let data: Uint8Array

beforeAll(() => {
  data = goRandomBytes(23, 32 * 1024 * 1024)
})

/** Runs a ChunkerState over `input` fed in pieces of the given sizes (cycled) and returns the chunks. */
function chunkWithState(state: ChunkerState, input: Uint8Array, pieces: number[]): Array<{ start: number; length: number; cut: bigint }> {
  const res: Array<{ start: number; length: number; cut: bigint }> = []
  let chunkStart = 0
  let off = 0
  let p = 0
  while (off < input.length) {
    const end = Math.min(input.length, off + pieces[p++ % pieces.length]!)
    const buf = input.subarray(off, end) // a separate view: positions are relative to it
    let pos = 0
    for (;;) {
      const cut = state.findCut(buf, pos, buf.length)
      if (cut < 0) break
      const abs = off + cut
      res.push({ start: chunkStart, length: abs - chunkStart, cut: state.cutFingerprint })
      chunkStart = abs
      pos = cut
    }
    off = end
  }
  const n = state.finish()
  if (n > 0) res.push({ start: chunkStart, length: n, cut: state.cutFingerprint })
  expect(chunkStart + n).toBe(input.length)
  return res
}

function expectChunks(got: Array<{ start: number; length: number; cut: bigint }>, input: Uint8Array, want: ExpectedChunk[]): void {
  expect(got.map((c) => c.length)).toEqual(want.map((c) => c.length))
  expect(got.map((c) => c.cut.toString(16))).toEqual(want.map((c) => c.cut.toString(16)))
  expect(got.map((c) => sha256(input.subarray(c.start, c.start + c.length)))).toEqual(want.map((c) => c.sha256))
}

describe.each(ENGINES)('restic chunker test vectors (chunker_test.go), engine %s', (engine) => {
  test('the generated input is restic\'s (Go math/rand seed 23)', () => {
    expect(Buffer.from(data.subarray(0, 8)).toString('hex')).toBe('cf8ee5cf5154738c')
    expect(sha256(data)).toBe('529617b3a6df2372a77f656f14a5baaf997dc03c1fc458d196f933fed0a46573')
  })

  test('32 MiB random, default options: lengths, cut fingerprints and digests', () => {
    const got = chunkWithState(new ChunkerState(TEST_POL, { engine }), data, [data.length])
    expect(got.length).toBe(23)
    expectChunks(got, data, CHUNKS_32MIB)
  })

  test('same cuts whatever the read sizes (1 MiB, odd sizes, tiny pieces around the window)', () => {
    expectChunks(chunkWithState(new ChunkerState(TEST_POL, { engine }), data, [1 << 20]), data, CHUNKS_32MIB)
    expectChunks(chunkWithState(new ChunkerState(TEST_POL, { engine }), data, [65537, 1000003, 13, 64, 63, 4 << 20]), data, CHUNKS_32MIB)
    // pieces of 1..70 bytes over the first 3 MiB exercise every window hand-over
    const part = data.subarray(0, 3 << 20)
    const sizes = Array.from({ length: 70 }, (_, i) => i + 1)
    const ref = chunkWithState(new ChunkerState(TEST_POL, { engine }), part, [part.length])
    expect(chunkWithState(new ChunkerState(TEST_POL, { engine }), part, sizes)).toEqual(ref)
    expect(ref[0]).toEqual({ start: 0, length: CHUNKS_32MIB[0]!.length, cut: CHUNKS_32MIB[0]!.cut })
  })

  test('averageBits 19', () => {
    const got = chunkWithState(new ChunkerState(TEST_POL, { averageBits: 19, engine }), data, [1 << 20])
    expect(got[0]).toMatchObject({ length: 1491586, cut: 0x23e586ea80000n })
    expectChunks(got, data, CHUNKS_32MIB_AVG19)
  })

  test('2 MiB of zeros: 4 chunks of 512 KiB with cut 0', () => {
    const zeros = new Uint8Array(4 * 512 * 1024)
    const got = chunkWithState(new ChunkerState(TEST_POL, { engine }), zeros, [1 << 20])
    expectChunks(got, zeros, CHUNKS_ZEROS)
  })

  test('Chunker.chunks over an async source gives the same chunks, zero-copy within a buffer', async () => {
    const chunker = new Chunker(TEST_POL, { engine })
    async function* reads(size: number): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < data.length; off += size) yield data.subarray(off, Math.min(data.length, off + size))
    }
    const got: Uint8Array[] = []
    for await (const c of chunker.chunks(reads(4 << 20))) got.push(c)
    expect(got.map((c) => c.length)).toEqual(CHUNKS_32MIB.map((c) => c.length))
    expect(got.map(sha256)).toEqual(CHUNKS_32MIB.map((c) => c.sha256))
    // the first chunk (2163460 bytes) lies within the first 4 MiB read: it is a view of the input
    expect(got[0]!.buffer).toBe(data.buffer)
    // sync iterables work too, and one big buffer gives only views
    const views: Uint8Array[] = []
    for await (const c of chunker.chunks([data])) views.push(c)
    expect(views.every((v) => v.buffer === data.buffer)).toBe(true)
    expect(views.map((c) => c.length)).toEqual(CHUNKS_32MIB.map((c) => c.length))
    expect(chunker.split(data).map((c) => c.length)).toEqual(CHUNKS_32MIB.map((c) => c.length))
  })

  test('a chunk spanning buffers is a fresh copy that later reuse of the sources does not change', async () => {
    const chunker = new Chunker(TEST_POL, { engine })
    const input = data.slice(0, 3 << 20)
    const pieces = [input.slice(0, 1 << 20), input.slice(1 << 20, 2 << 20), input.slice(2 << 20)]
    const got: Uint8Array[] = []
    for await (const c of chunker.chunks(pieces)) got.push(c)
    expect(got[0]!.length).toBe(CHUNKS_32MIB[0]!.length)
    pieces.forEach((p) => p.fill(0))
    expect(sha256(got[0]!)).toBe(CHUNKS_32MIB[0]!.sha256)
  })
})

describe.each(ENGINES)('Chunker on small and edge inputs, engine %s', (engine) => {
  const chunker = new Chunker(TEST_POL, { engine })
  const collect = async (src: Iterable<Uint8Array>): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = []
    for await (const c of chunker.chunks(src)) out.push(c)
    return out
  }

  test('empty input gives no chunk; empty buffers are skipped', async () => {
    expect(await collect([])).toEqual([])
    expect(await collect([new Uint8Array(0), new Uint8Array(0)])).toEqual([])
    expect(chunker.split(new Uint8Array(0))).toEqual([])
  })

  test('input below the minimum is one chunk, and its fingerprint is 1 (never hashed)', async () => {
    const small = randomBytes(100_000)
    const got = await collect([small.subarray(0, 10), new Uint8Array(0), small.subarray(10)])
    expect(got.length).toBe(1)
    expect(Buffer.compare(got[0]!, small)).toBe(0)
    const st = new ChunkerState(TEST_POL, { engine })
    expect(st.findCut(small)).toBe(-1)
    expect(st.pending).toBe(100_000)
    expect(st.finish()).toBe(100_000)
    expect(st.cutFingerprint).toBe(1n)
    expect(st.pending).toBe(0)
  })

  test('maxSize forces a cut; at a cut the fingerprint is the last 64 bytes mod P', () => {
    // a constant stream has a constant fingerprint once the window is full: 0xff…ff (64 bytes) mod P
    const d = polynomialMod(BigInt('0x' + 'ff'.repeat(64)), TEST_POL)
    expect(d & 0xfffffn).not.toBe(0n) // so no cut until maxSize
    const ff = new Uint8Array(20 << 20).fill(0xff)
    const st = new ChunkerState(TEST_POL, { engine })
    const got = chunkWithState(st, ff, [3 << 20])
    expect(got.map((c) => c.length)).toEqual([8 << 20, 8 << 20, 4 << 20])
    expect(got.map((c) => c.cut)).toEqual([d, d, d])
    expect(chunker.split(ff).map((c) => c.length)).toEqual([8 << 20, 8 << 20, 4 << 20])
  })

  test('findCut over a range of a larger buffer uses only that range', () => {
    const buf = new Uint8Array(5 << 20).fill(7)
    buf.set(data.subarray(0, 3 << 20), 1 << 20)
    const st = new ChunkerState(TEST_POL, { engine })
    expect(st.findCut(buf, 1 << 20, 4 << 20)).toBe((1 << 20) + CHUNKS_32MIB[0]!.length)
    expect(st.cutFingerprint).toBe(CHUNKS_32MIB[0]!.cut)
    expect(() => st.findCut(buf, 10, 5)).toThrow(/range \[10, 5\)/)
    expect(() => st.findCut(buf, 0, buf.length + 1)).toThrow(/not within/)
    expect(st.findCut(buf, 7, 7)).toBe(-1)
    expect(st.pending).toBe(0)
  })
})

describe.each(ENGINES)('chunker = literal BigInt reference on random small configurations, engine %s', (engine) => {
  const pols: Array<[string, bigint]> = [
    ['restic test polynomial (degree 53)', TEST_POL],
    ['irreducible degree 53', 0x2482734cacca49n],
    ['degree 47 (x^47+x^5+1)', (1n << 47n) | (1n << 5n) | 1n],
    ['degree 40 (x^40 + …)', (1n << 40n) | 0x39n],
    ['degree 39, generic path', (1n << 39n) | (1n << 4n) | 1n],
    ['degree 31, generic path', (1n << 31n) | (1n << 3n) | 1n],
    ['degree 17', (1n << 17n) | (1n << 3n) | 1n],
    ['degree 16', (1n << 16n) | (1n << 5n) | (1n << 3n) | (1n << 2n) | 1n],
    ['degree 9 (JS in any case)', (1n << 9n) | (1n << 4n) | 1n],
  ]
  for (const [name, pol] of pols) {
    test(name, () => {
      for (let round = 0; round < 6; round++) {
        const minSize = 64 + Math.floor(Math.random() * 300)
        const maxSize = minSize + Math.floor(Math.random() * 3000)
        const averageBits = [0, 3, 6, 8, 33, 40][round]!
        const input = round % 2 ? randomBytes(60_000) : lowEntropy(60_000)
        const want = referenceChunks(input, pol, minSize, maxSize, averageBits)
        const pieces = Array.from({ length: 5 }, () => 1 + Math.floor(Math.random() * 2000))
        const got = chunkWithState(new ChunkerState(pol, { minSize, maxSize, averageBits, engine: engine === 'wasm' && polynomialDegree(pol) < 16 ? 'auto' : engine }), input, pieces)
        expect(got, `min ${minSize} max ${maxSize} bits ${averageBits} pieces ${pieces.join(',')}`).toEqual(want)
        const whole = chunkWithState(new ChunkerState(pol, { minSize, maxSize, averageBits, engine: engine === 'wasm' && polynomialDegree(pol) < 16 ? 'auto' : engine }), input, [input.length])
        expect(whole).toEqual(want)
      }
    })
  }
})

test('wasm = js on long chunks (cuts across 256 KiB blocks, at maxSize, odd and even lengths)', () => {
  const input = data.subarray(0, 12 << 20)
  for (const [minSize, maxSize, averageBits] of [[64, 777_777, 22], [1000, 2_000_001, 21], [300_001, 600_000, 18]] as const) {
    const pieces = [1_048_577, 262_144, 99, 3_000_000]
    const js = chunkWithState(new ChunkerState(TEST_POL, { minSize, maxSize, averageBits, engine: 'js' }), input, pieces)
    const wasm = chunkWithState(new ChunkerState(TEST_POL, { minSize, maxSize, averageBits, engine: 'wasm' }), input, pieces)
    expect(wasm).toEqual(js)
    expect(js.some((c) => c.length === maxSize)).toBe(true)
    expect(js.some((c) => c.length < maxSize && c.length % 2 === 1)).toBe(true)
  }
})

function lowEntropy(n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = Math.random() < 0.9 ? 0x61 + (i % 7) : Math.floor(Math.random() * 256)
  return b
}

describe('validation', () => {
  test('bad options and polynomials are InvalidInput errors that name the problem', () => {
    expect(() => new Chunker(TEST_POL, { minSize: 10 })).toThrow(/minSize/)
    expect(() => new Chunker(TEST_POL, { minSize: 1 << 20, maxSize: 1 << 19 })).toThrow(/maxSize/)
    expect(() => new Chunker(TEST_POL, { averageBits: 54 })).toThrow(/averageBits/)
    expect(() => new Chunker(TEST_POL, { minSize: 1.5 } as never)).toThrow(/minSize/)
    try {
      new Chunker(1n << 54n)
      expect.unreachable()
    } catch (e) {
      expect(isRusticError(e, 'InvalidPolynomial')).toBe(true)
      expect((e as Error).message).toMatch(/40000000000000 has degree 54/)
    }
    expect(() => new Chunker(0x7fn)).toThrow(/degree 6/)
  })

  test("engine 'wasm' needs degree >= 16; 'js' and 'auto' take any degree from 8", () => {
    expect(() => new ChunkerState((1n << 9n) | 1n, { engine: 'wasm' })).toThrow(/degree 9/)
    expect(() => new ChunkerState((1n << 9n) | 1n, { engine: 'auto' })).not.toThrow()
    expect(() => new Chunker(TEST_POL, { engine: 'fast' } as never)).toThrow(/engine/)
  })

  test('tables are computed once per polynomial', () => {
    const p = parsePolynomial('3da3358b4dc173')
    expect(chunkerTables(p)).toBe(chunkerTables(TEST_POL))
  })
})
