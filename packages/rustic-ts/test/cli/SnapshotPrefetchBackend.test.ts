import { describe, expect, it } from 'vitest'
import { MemoryBackend, type CallOptions, type FileType, type Id } from '@rustic-ts/core'
import { SnapshotPrefetchBackend } from '../../src/cli/SnapshotPrefetchBackend.js'

/** A memory backend counting its reads and failing the reads of `failing` once. */
class CountingBackend extends MemoryBackend {
  readonly reads = new Map<string, number>()
  readonly failing = new Set<string>()

  override async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    this.reads.set(`${type}/${id}`, (this.reads.get(`${type}/${id}`) ?? 0) + 1)
    if (this.failing.delete(id)) throw new Error(`read of ${id} failed`)
    return super.readFull(type, id, options)
  }
}

const idOf = (i: number): Id => i.toString(16).padStart(64, '0') as Id
const bytes = (i: number): Uint8Array => new TextEncoder().encode(`snapshot ${i}`)

async function backendWith(n: number): Promise<CountingBackend> {
  const b = new CountingBackend()
  for (let i = 0; i < n; i++) await b.writeBytes('snapshot', idOf(i), true, bytes(i))
  await b.writeBytes('index', idOf(0), true, bytes(-1))
  return b
}

/** Lets the early reads run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10))

describe('SnapshotPrefetchBackend', () => {
  it('reads every snapshot file once, early, and hands the bytes to the command', async () => {
    const inner = await backendWith(20)
    const b = new SnapshotPrefetchBackend(inner, 3)
    await settle()
    expect([...inner.reads.values()]).toEqual(Array(20).fill(1))
    for (let i = 0; i < 20; i++) expect(await b.readFull('snapshot', idOf(i))).toEqual(bytes(i))
    expect([...inner.reads.values()]).toEqual(Array(20).fill(1))
    // a second read of the same file, and other file types, go to the backend
    expect(await b.readFull('snapshot', idOf(4))).toEqual(bytes(4))
    expect(await b.readFull('index', idOf(0))).toEqual(bytes(-1))
    expect(inner.reads.get(`snapshot/${idOf(4)}`)).toBe(2)
  })

  it('lists afresh: a snapshot removed after the early reads is not listed, one added is', async () => {
    const inner = await backendWith(3)
    const b = new SnapshotPrefetchBackend(inner, 8)
    await settle()
    await inner.remove('snapshot', idOf(1), true)
    await inner.writeBytes('snapshot', idOf(7), true, bytes(7))
    expect((await b.list('snapshot')).sort()).toEqual([idOf(0), idOf(2), idOf(7)])
    expect(await b.readFull('snapshot', idOf(7))).toEqual(bytes(7))
  })

  it('reads again a file whose early read failed, and a file asked for before the early reads got to it is not read early', async () => {
    const inner = await backendWith(5)
    inner.failing.add(idOf(2))
    const b = new SnapshotPrefetchBackend(inner, 1)
    const asked = b.readFull('snapshot', idOf(4)) // before the listing is back
    await settle()
    expect(await asked).toEqual(bytes(4))
    expect(inner.reads.get(`snapshot/${idOf(4)}`)).toBe(1)
    expect(await b.readFull('snapshot', idOf(2))).toEqual(bytes(2))
    expect(inner.reads.get(`snapshot/${idOf(2)}`)).toBe(2)
    await expect(b.readFull('snapshot', idOf(9))).rejects.toMatchObject({ code: 'NotFound' })
  })

  it('fails with Aborted when the signal is aborted', async () => {
    const b = new SnapshotPrefetchBackend(await backendWith(2), 2)
    await settle()
    await expect(b.readFull('snapshot', idOf(0), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'Aborted' })
  })

  it('with types, reads the index files early too', async () => {
    const inner = await backendWith(2)
    const b = new SnapshotPrefetchBackend(inner, 2, ['index', 'snapshot'])
    await settle()
    expect(inner.reads.get(`index/${idOf(0)}`)).toBe(1)
    expect(await b.readFull('index', idOf(0))).toEqual(bytes(-1))
    expect(await b.readFull('snapshot', idOf(1))).toEqual(bytes(1))
    expect(inner.reads.get(`index/${idOf(0)}`)).toBe(1)
    expect(inner.reads.get(`snapshot/${idOf(1)}`)).toBe(1)
  })
})
