import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  BlobIndex,
  BlobsInFlight,
  ForwardingBackend,
  isRusticError,
  MemoryBackend,
  RusticError,
  StreamSource,
  type BlobWriter,
  type CallOptions,
  type FileType,
  type IndexBlob,
  type Id,
  type Repository,
} from '@rustic-ts/core/internal'
import { memoryRepo } from '../repository/lock/helpers.js'

/** Streams `data` in pieces, waiting a little between them (so that concurrent backups interleave). */
function source(data: Uint8Array, onPiece: (n: number) => void = () => {}): StreamSource {
  return new StreamSource(async function* () {
    for (let off = 0, n = 0; off < data.length; off += 256 * 1024, n++) {
      onPiece(n)
      await new Promise((r) => setTimeout(r, 2))
      yield data.subarray(off, off + 256 * 1024)
    }
  }, 'data.bin')
}

async function packBytes(repo: Repository): Promise<number> {
  return (await repo.backend.listWithSize('pack')).reduce((a, [, s]) => a + s, 0)
}

async function readBack(repo: Repository, snapshotId: string): Promise<Buffer> {
  const indexed = await repo.toIndexed()
  const { node } = await indexed.resolveSnapshotPath(`${snapshotId}:/data.bin`)
  const parts: Uint8Array[] = []
  for await (const p of indexed.readFile(node)) parts.push(p)
  return Buffer.concat(parts)
}

describe('concurrent backups on one IndexedRepository', () => {
  it('store new data once, and every snapshot reads back', async () => {
    const { repo, open } = await memoryRepo()
    const indexed = await repo.toIndexed()
    const data = randomBytes(6 * 1024 * 1024)
    const results = await Promise.all([0, 1, 2].map(() => indexed.backup(source(data))))
    const stored = await packBytes(repo)
    expect(stored).toBeLessThan(data.length * 1.3)
    const fresh = await open()
    for (const r of results) expect((await readBack(fresh, r.snapshot.id!)).equals(data)).toBe(true)
    expect((await fresh.check({ readData: true })).findings.filter((f) => f.level !== 'info')).toEqual([])
  })

  it('a backup whose shared blobs are lost by an aborted one fails with SharedBlobLost and saves nothing', { timeout: 15000 }, async () => {
    // data pack uploads wait at a gate (abortably): the first backup holds its blobs unstored
    let gate!: () => void
    const opened = new Promise<void>((r) => (gate = r))
    let atGate!: () => void
    const firstAtGate = new Promise<void>((r) => (atGate = r))
    class GatedBackend extends ForwardingBackend {
      override async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
        if (type === 'pack' && !cacheable) {
          atGate()
          await new Promise<void>((resolve, reject) => {
            void opened.then(resolve)
            options?.signal?.addEventListener('abort', () => reject(new RusticError('Internal', 'aborted', { code: 'Aborted' })))
          })
        }
        return super.writeBytes(type, id, cacheable, data, options)
      }
    }
    const { repo, open } = await memoryRepo(new GatedBackend(new MemoryBackend()))
    const indexed = await repo.toIndexed()
    const data = randomBytes(3 * 1024 * 1024)
    let waiting!: () => void
    const secondWaits = new Promise<void>((r) => (waiting = r))
    const waitFor = indexed.blobsInFlight.waitFor.bind(indexed.blobsInFlight)
    indexed.blobsInFlight.waitFor = (blobs, signal) => {
      if ([...blobs].length > 0) waiting()
      return waitFor(blobs, signal)
    }
    const abort = new AbortController()
    const first = indexed.backup(source(data), {}, { signal: abort.signal }).catch((e: unknown) => e)
    // the second starts once the first has claimed every blob of the data (its one data pack is at the gate)
    await firstAtGate
    const second = indexed.backup(source(data)).catch((e: unknown) => e)
    await secondWaits
    abort.abort()
    expect(isRusticError(await first, 'Aborted'), String(await first)).toBe(true)
    const err = await second
    expect(isRusticError(err, 'SharedBlobLost'), String(err)).toBe(true)
    expect((err as Error).message).toMatch(/^another backup of this process that was storing data this backup shares failed \(.*\): nothing was saved, run the backup again$/)
    gate()
    const fresh = await open()
    expect(await fresh.getSnapshots()).toHaveLength(0)
    expect((await fresh.check()).findings.filter((f) => f.level === 'error')).toEqual([])
  })
})

describe('BlobsInFlight', () => {
  it('a blob is in flight from its claim until its index file is stored; waiters hurry its writer', async () => {
    const inFlight = new BlobsInFlight()
    const hurried: string[] = []
    const a: BlobWriter = { hurry: () => void hurried.push('a') }
    const b: BlobWriter = { hurry: () => void hurried.push('b') }
    const id = 'aa'.repeat(32) as Id
    inFlight.claim('data', id, a)
    expect(inFlight.elsewhere('data', id, a)).toBeUndefined()
    const blob = inFlight.elsewhere('data', id, b)!
    expect(blob.writer).toBe(a)
    const waiting = inFlight.waitFor([blob])
    await new Promise((r) => setTimeout(r, 10))
    expect(hurried).toEqual(['a'])
    const pack = 'a1'.repeat(32) as Id
    inFlight.packStored(a, pack, [{ type: 'data', id }])
    expect(blob.settled).toBe(false) // its pack is stored, its index file not yet
    inFlight.stored(a, [pack])
    await waiting
    expect(inFlight.elsewhere('data', id, b)).toBeUndefined()
  })

  it('a writer that ends without storing fails the waiters', async () => {
    const inFlight = new BlobsInFlight()
    const a: BlobWriter = { hurry: () => {} }
    const id = 'bb'.repeat(32) as Id
    inFlight.claim('tree', id, a)
    const blob = inFlight.elsewhere('tree', id, { hurry: () => {} })!
    const waiting = inFlight.waitFor([blob]).catch((e: unknown) => e)
    inFlight.release(a, new Error('disk full'))
    const err = await waiting
    expect(isRusticError(err, 'SharedBlobLost')).toBe(true)
    expect((err as Error).message).toContain('(disk full)')
  })

  it('claims nobody asked for leave with their index file or their writer; one asked for is the same to every asker', async () => {
    const inFlight = new BlobsInFlight()
    const a: BlobWriter = { hurry: () => {} }
    const b: BlobWriter = { hurry: () => {} }
    const c: BlobWriter = { hurry: () => {} }
    const [x, y, z] = ['11', '22', '33'].map((h) => h.repeat(32) as Id) as [Id, Id, Id]
    for (const id of [x, y, z]) inFlight.claim('data', id, a)
    inFlight.claim('data', x, b) // already claimed by a: stays a's
    expect(inFlight.elsewhere('tree', x, b)).toBeUndefined() // another type
    const [px, py, pz] = ['a1', 'a2', 'b1'].map((h) => h.repeat(32) as Id) as [Id, Id, Id]
    inFlight.packStored(a, px, [{ type: 'data', id: x }])
    inFlight.stored(a, [px]) // nobody asked: just no longer in flight
    expect(inFlight.elsewhere('data', x, b)).toBeUndefined()
    const asked = inFlight.elsewhere('data', y, b)!
    expect(inFlight.elsewhere('data', y, c)).toBe(asked)
    expect(inFlight.elsewhere('data', y, a)).toBeUndefined() // its own writer's
    expect(asked.settled).toBe(false)
    inFlight.packStored(a, py, [{ type: 'data', id: y }])
    inFlight.stored(b, [py]) // not b's: nothing changes
    expect(asked.settled).toBe(false)
    inFlight.release(a)
    expect(asked.settled).toBe(true)
    expect(isRusticError(asked.error, 'SharedBlobLost')).toBe(true)
    await expect(asked.stored).rejects.toThrow(/ended without storing/)
    // a's claims are gone: another writer may claim them now
    expect(inFlight.elsewhere('data', z, b)).toBeUndefined()
    inFlight.claim('data', z, b)
    const zb = inFlight.elsewhere('data', z, c)!
    expect(zb.writer).toBe(b)
    inFlight.packStored(b, pz, [{ type: 'data', id: z }])
    inFlight.stored(b, [pz])
    await inFlight.waitFor([zb])
    expect(zb.settled).toBe(true)
    expect(inFlight.elsewhere('data', z, c)).toBeUndefined()
  })

  it('a stored pack holds its blobs (found through the index) until its index file is stored', async () => {
    const index = new BlobIndex()
    const inFlight = new BlobsInFlight(index)
    const a: BlobWriter = { hurry: () => {} }
    const b: BlobWriter = { hurry: () => {} }
    const [x, y, pack, other] = ['31', '32', 'a1', 'a2'].map((h) => h.repeat(32) as Id) as [Id, Id, Id, Id]
    inFlight.claim('data', x, a)
    inFlight.claim('tree', y, a)
    const early = inFlight.elsewhere('tree', y, b)! // asked before the pack is stored
    const blobs: IndexBlob[] = [
      { id: x, type: 'data', offset: 0, length: 10 },
      { id: y, type: 'tree', offset: 10, length: 10 },
    ]
    index.addIndexFile({ packs: [{ id: pack, blobs }] })
    inFlight.packStored(a, pack, blobs)
    expect(inFlight.elsewhere('data', x, a)).toBeUndefined() // its own writer's
    const late = inFlight.elsewhere('data', x, b)!
    expect(late.writer).toBe(a)
    expect(inFlight.elsewhere('data', x, b)).toBe(late)
    expect(inFlight.elsewhere('tree', y, b)).toBe(early)
    inFlight.stored(a, [other]) // another pack: nothing changes
    expect([late.settled, early.settled]).toEqual([false, false])
    inFlight.stored(a, [pack])
    await inFlight.waitFor([late, early])
    expect(inFlight.elsewhere('data', x, b)).toBeUndefined()
    expect(inFlight.elsewhere('tree', y, b)).toBeUndefined()
  })

  it('the packs of a writer that ends hold nothing any more', () => {
    const index = new BlobIndex()
    const inFlight = new BlobsInFlight(index)
    const a: BlobWriter = { hurry: () => {} }
    const [x, pack] = ['41', 'a1'].map((h) => h.repeat(32) as Id) as [Id, Id]
    inFlight.claim('data', x, a)
    const blobs: IndexBlob[] = [{ id: x, type: 'data', offset: 0, length: 10 }]
    index.addIndexFile({ packs: [{ id: pack, blobs }] })
    inFlight.packStored(a, pack, blobs)
    inFlight.release(a)
    expect(inFlight.elsewhere('data', x, { hurry: () => {} })).toBeUndefined()
  })
})
