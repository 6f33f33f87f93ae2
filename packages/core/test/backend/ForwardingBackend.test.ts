import { describe, expect, it } from 'vitest'
import {
  BackendError,
  DryRunBackend,
  ForwardingBackend,
  HotColdBackend,
  MemoryBackend,
  RetryBackend,
  WarmUpBackend,
  hashId,
  type CallOptions,
  type FileType,
  type FileWriter,
  type Id,
  type WriteBackend,
} from '@rustic-ts/core/internal'

/** A memory backend that can also write files piece by piece, counting the writers it opened. */
class StreamingMemoryBackend extends MemoryBackend {
  opened = 0
  failOpens = 0

  async openFileWriter(type: FileType, cacheable: boolean, options?: CallOptions): Promise<FileWriter | undefined> {
    if (this.failOpens > 0) {
      this.failOpens--
      throw new BackendError('Transient', 'try again')
    }
    this.opened++
    const parts: Uint8Array[] = []
    return {
      write: async (data) => void parts.push(data.slice()),
      commit: async (id) => this.writeBytes(type, id, cacheable, Buffer.concat(parts), options),
      abort: async () => {},
    }
  }
}

const pack = new TextEncoder().encode('a data pack')

/** Streams `pack` through `backend`'s file writer; returns false when it offered none. */
async function stream(backend: WriteBackend, cacheable = false): Promise<boolean> {
  const w = await backend.openFileWriter!('pack', cacheable)
  if (!w) return false
  await w.write(pack.subarray(0, 4))
  await w.write(pack.subarray(4))
  await w.commit(hashId(pack))
  return true
}

const decorators: Array<[string, (inner: WriteBackend) => WriteBackend]> = [
  ['ForwardingBackend', (inner) => new ForwardingBackend(inner)],
  ['RetryBackend', (inner) => new RetryBackend(inner, { baseDelayMs: 0 })],
  ['WarmUpBackend', (inner) => new WarmUpBackend(inner, { warmUpAccess: true })],
  ['HotColdBackend', (inner) => new HotColdBackend(inner, new MemoryBackend('hot'))],
]

/** A memory backend that says where its files are (as a local backend does). */
class PathMemoryBackend extends MemoryBackend {
  async localPath(type: FileType, id: Id, _options?: CallOptions): Promise<string> {
    return `/files/${type}/${id}`
  }
}

describe('decorators forward localPath only where they leave readPartial alone', () => {
  it('a plain decorator forwards it, one that overrides readPartial does not, nor does one around a backend without it', async () => {
    const inner = new PathMemoryBackend('m')
    const ab = 'ab' as Id
    expect(await new ForwardingBackend(inner).localPath?.('pack', ab)).toBe('/files/pack/ab')
    expect(await new WarmUpBackend(inner, { warmUpAccess: true }).localPath?.('pack', ab)).toBe('/files/pack/ab')
    class Changing extends ForwardingBackend {
      override readPartial(type: FileType, id: Id, cacheable: boolean, offset: number, length: number, options?: CallOptions): Promise<Uint8Array> {
        return super.readPartial(type, id, cacheable, offset, length, options)
      }
    }
    expect(new Changing(inner).localPath).toBeUndefined()
    expect(new ForwardingBackend(new MemoryBackend('m')).localPath).toBeUndefined()
  })
})

describe('decorators forward openFileWriter', () => {
  for (const [name, wrap] of decorators) {
    it(`${name} streams data packs to the inner backend`, async () => {
      const inner = new StreamingMemoryBackend()
      const b = wrap(inner)
      expect(typeof b.openFileWriter).toBe('function')
      expect(await stream(b)).toBe(true)
      expect(inner.opened).toBe(1)
      expect(await inner.readFull('pack', hashId(pack))).toEqual(pack)
    })

    it(`${name} offers no writer when the inner backend has none`, () => {
      expect(wrap(new MemoryBackend()).openFileWriter).toBeUndefined()
    })
  }

  it('nested decorators keep it (retry around hot/cold around warm-up)', async () => {
    const inner = new StreamingMemoryBackend()
    const b = new RetryBackend(new HotColdBackend(new WarmUpBackend(inner, { warmUpAccess: true }), new MemoryBackend('hot')))
    expect(await stream(b)).toBe(true)
    expect(inner.opened).toBe(1)
  })

  it('HotColdBackend streams only data packs (to cold): tree packs are written to both with writeBytes', async () => {
    const cold = new StreamingMemoryBackend()
    const b = new HotColdBackend(cold, new MemoryBackend('hot'))
    expect(await stream(b, true)).toBe(false)
    expect(cold.opened).toBe(0)
  })

  it('RetryBackend retries opening a writer after a transient error', async () => {
    const inner = new StreamingMemoryBackend()
    inner.failOpens = 2
    const retries: number[] = []
    const b = new RetryBackend(inner, { baseDelayMs: 0, onRetry: (_e, n) => retries.push(n) })
    expect(await stream(b)).toBe(true)
    expect(retries).toEqual([1, 2])
  })

  it('DryRunBackend gives a writer that stores nothing and counts the skipped file', async () => {
    const inner = new StreamingMemoryBackend()
    const b = new DryRunBackend(inner)
    expect(await stream(b)).toBe(true)
    expect(inner.opened).toBe(0)
    expect(await inner.list('pack')).toEqual([])
    expect([b.writesSkipped, b.bytesSkipped]).toEqual([1, pack.length])
  })
})
