import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { compress, hashId, Key, zstdBuffers } from '@rustic-ts/core/internal'
import { RangeRestorer } from '../../src/workers/RangeRestorer.js'
import type { RestoreBlob } from '../../src/workers/restore.protocol.js'

let dir: string | undefined
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

// restore's main thread runs ranges with a RangeRestorer while every worker is busy (the workers run theirs
// with one too): a range of a plain, a compressed and a damaged blob, written where they go, on this thread
it('opens the blobs of a range on the calling thread, writes them, sets metadata on the descriptor, and skips a damaged blob or one that is not its id', async () => {
  dir = await mkdtemp(join(tmpdir(), 'rangerestorer-'))
  const key = Key.random()
  const zstd = zstdBuffers()!
  const a = new TextEncoder().encode('first blob '.repeat(100))
  const b = new TextEncoder().encode('second blob, compressed '.repeat(200))
  const c = new TextEncoder().encode('damaged')
  const sealed = [key.encrypt(a), key.encrypt(compress(b, 3)), key.encrypt(c), key.encrypt(a)]
  sealed[2]![20]! ^= 1 // (fails its MAC)
  const data = new Uint8Array(sealed.reduce((n, s) => n + s.length, 0))
  let at = 0
  const starts = sealed.map((s) => {
    data.set(s, at)
    return (at += s.length) - s.length
  })
  const one = join(dir, 'one')
  const two = join(dir, 'two')
  const mtimeNs = 1_600_000_000_123_456_789n
  const blobs: RestoreBlob[] = [
    { id: hashId(a), start: starts[0]!, length: sealed[0]!.length, dataLength: a.length, targets: [{ file: 0, path: one, offset: 0, create: true, skipZero: false, meta: { mode: 0o640, atimeNs: mtimeNs, mtimeNs } }] },
    {
      id: hashId(b),
      start: starts[1]!,
      length: sealed[1]!.length,
      uncompressedLength: b.length,
      dataLength: b.length,
      targets: [
        { file: 1, path: two, offset: 0, create: true, skipZero: false },
        { file: 1, path: two, offset: b.length, create: false, skipZero: false },
      ],
    },
    { id: hashId(c), start: starts[2]!, length: sealed[2]!.length, dataLength: c.length, targets: [{ file: 2, path: join(dir, 'three'), offset: 0, create: true, skipZero: false }] },
    // sealed right, but not the blob its id names
    { id: hashId(b), start: starts[3]!, length: sealed[3]!.length, dataLength: a.length, targets: [{ file: 3, path: join(dir, 'four'), offset: 0, create: true, skipZero: false }] },
  ]
  const reply = new RangeRestorer(key, zstd).run({ id: 7, data, blobs, verify: true, what: 'pack 00' })
  expect(reply.failure).toBeUndefined()
  expect(reply).toMatchObject({ id: 7, written: a.length + 2 * b.length, files: [0, 1, 1], metaDone: [0] })
  expect(reply.damaged.map((d) => [d.blob, d.error.code])).toEqual([
    [2, 'MacMismatch'],
    [3, 'IntegrityError'],
  ])
  expect(new Uint8Array(await readFile(one))).toEqual(a)
  expect(new Uint8Array(await readFile(two))).toEqual(new Uint8Array([...b, ...b]))
  const st = await stat(one, { bigint: true })
  expect(Number(st.mode) & 0o7777).toBe(0o640)
  expect(st.mtimeNs).toBe(mtimeNs)
  await expect(stat(join(dir, 'three'))).rejects.toThrow(/ENOENT/)
  await expect(stat(join(dir, 'four'))).rejects.toThrow(/ENOENT/)
})

// a job given a local pack file reads its range itself, a window at a time (whole blobs, at least one), and
// leaves what the file cannot give (cut short) to the caller from the first blob it could not read
it('reads the range of a job with a file itself, in windows, and reports where a cut-short file ends', async () => {
  dir = await mkdtemp(join(tmpdir(), 'rangerestorer-'))
  const key = Key.random()
  const plains = [0, 1, 2, 3].map((i) => new TextEncoder().encode(`blob ${i} `.repeat(300 + 100 * i)))
  const sealed = plains.map((p) => key.encrypt(p))
  const head = new Uint8Array(100).fill(7) // (other bytes of the pack before the range)
  const packPath = join(dir, 'pack')
  const range = Buffer.concat(sealed)
  await writeFile(packPath, Buffer.concat([head, range]))
  let at = 0
  const blobs: RestoreBlob[] = sealed.map((s, i) => {
    at += s.length
    return { id: hashId(plains[i]!), start: at - s.length, length: s.length, dataLength: plains[i]!.length, targets: [{ file: i, path: join(dir!, `f${i}`), offset: 0, create: true, skipZero: false }] }
  })
  const restorer = new RangeRestorer(key, zstdBuffers()!)
  // windows smaller than two blobs: every blob is read on its own
  const file = { path: packPath, offset: head.length, length: range.length, window: sealed[0]!.length + 10 }
  const reply = restorer.run({ id: 1, data: new Uint8Array(0), blobs, verify: true, what: 'pack 00', file })
  expect(reply.failure).toBeUndefined()
  expect(reply.unreadFrom).toBeUndefined()
  expect(reply.read).toBe(range.length)
  expect(reply.files).toEqual([0, 1, 2, 3])
  for (const [i, p] of plains.entries()) expect(new Uint8Array(await readFile(join(dir, `f${i}`)))).toEqual(p)

  // the pack file cut in the third blob: two blobs done, the rest left to the caller
  await truncate(packPath, head.length + blobs[2]!.start + 5)
  for (const i of [0, 1, 2, 3]) await rm(join(dir, `f${i}`))
  const cut = restorer.run({ id: 2, data: new Uint8Array(0), blobs, verify: true, what: 'pack 00', file })
  expect(cut.failure).toBeUndefined()
  expect(cut.damaged).toEqual([])
  expect(cut.unreadFrom).toBe(2)
  expect(cut.files).toEqual([0, 1])
  expect(new Uint8Array(await readFile(join(dir, 'f1')))).toEqual(plains[1])
  // one window for all four: nothing of it can be read
  const whole = restorer.run({ id: 3, data: new Uint8Array(0), blobs, verify: true, what: 'pack 00', file: { ...file, window: 1 << 20 } })
  expect(whole.unreadFrom).toBe(0)
  await rm(packPath)
  const gone = restorer.run({ id: 4, data: new Uint8Array(0), blobs, verify: true, what: 'pack 00', file })
  expect(gone.unreadFrom).toBe(0)
  expect(gone.files).toEqual([])
})

// the window and the decompression buffer are kept from job to job; one outgrown by a larger blob is given
// back at once (detached), not left for a major collection with its pages still mapped
it('gives back the window and decompression buffers it outgrows at once, and still restores every blob', async () => {
  dir = await mkdtemp(join(tmpdir(), 'rangerestorer-'))
  const key = Key.random()
  const zstd = zstdBuffers()!
  const plains = [1, 3].map((mib) => new TextEncoder().encode(`blob of ${mib} MiB `.repeat(Math.ceil((mib << 20) / 16))).subarray(0, (mib << 20) + 5))
  const restorer = new RangeRestorer(key, zstd)
  const held = restorer as unknown as { scratch: Buffer; window: Buffer }
  const outgrown: Buffer[] = []
  for (const [i, plain] of plains.entries()) {
    // each in a pack file of its own, read by the restorer; the second blob is larger both sealed and plain
    const blobSealed = key.encrypt(compress(plain, 3))
    const packPath = join(dir, `pack${i}`)
    await writeFile(packPath, blobSealed)
    const blob: RestoreBlob = {
      id: hashId(plain),
      start: 0,
      length: blobSealed.length,
      uncompressedLength: plain.length,
      dataLength: plain.length,
      targets: [{ file: i, path: join(dir, `f${i}`), offset: 0, create: true, skipZero: false }],
    }
    const before = [held.scratch, held.window].filter((b) => b.length > 0)
    const reply = restorer.run({ id: i, data: new Uint8Array(0), blobs: [blob], verify: true, what: `pack 0${i}`, file: { path: packPath, offset: 0, length: blobSealed.length, window: 64 << 10 } })
    expect(reply.failure).toBeUndefined()
    expect(reply.damaged).toEqual([])
    expect(new Uint8Array(await readFile(join(dir, `f${i}`)))).toEqual(plain)
    for (const b of before) if (b !== held.scratch && b !== held.window) outgrown.push(b)
  }
  expect(held.scratch.length).toBeGreaterThanOrEqual(plains[1]!.length)
  expect(outgrown.length).toBeGreaterThan(0)
  for (const b of outgrown) expect(b.buffer.byteLength).toBe(0)
})
