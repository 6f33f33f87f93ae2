import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  MemoryBackend,
  Repository,
  RusticError,
  formatGoTime,
  type Node,
  type ReadSource,
  type ReadSourceEntry,
} from '@rustic-ts/core/internal'

/** A source made in memory: what a user backing up from a tar stream or an object store would write. */
class InMemorySource implements ReadSource {
  constructor(private readonly files: Record<string, Uint8Array | Error>) {}

  async size() {
    const sizes = Object.values(this.files).map((f) => (f instanceof Error ? 0 : f.length))
    return { files: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0) }
  }

  async *entries(): AsyncIterable<ReadSourceEntry> {
    const time = formatGoTime(1_700_000_000_123_456_789n)
    const base = { mtime: time, atime: time, ctime: time, uid: 1000, gid: 1000 }
    yield { path: '/exported', node: { ...base, name: 'exported', type: 'dir', mode: 2 ** 31 + 0o755, content: null } as Node }
    for (const name of Object.keys(this.files).sort()) {
      const data = this.files[name]!
      yield {
        path: `/exported/${name}`,
        node: { ...base, name, type: 'file', mode: 0o644, size: data instanceof Error ? 10 : data.length, content: [] },
        open: async function* () {
          if (data instanceof Error) throw data
          for (let i = 0; i < data.length; i += 100_000) yield data.subarray(i, i + 100_000)
        },
      }
    }
  }
}

describe('backup from a custom ReadSource', () => {
  it('stores the entries, deduplicates, skips unreadable ones and reads back identically', async () => {
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const big = randomBytes(3 * 1024 * 1024)
    const files = { 'a.bin': big, 'b.bin': big, 'small.txt': new TextEncoder().encode('hello'), 'broken': new Error('disk on fire') }
    const warnings: string[] = []
    const indexed = await repo.toIndexed()
    const result = await indexed.backup(new InMemorySource(files), { tags: ['custom'], snapshotPaths: ['/exported'] }, {
      onWarning: (m) => warnings.push(m),
    })
    expect(result.saved).toBe(true)
    expect(result.skipped).toEqual([{ path: '/exported/broken', error: 'disk on fire' }])
    expect(warnings.some((w) => w.includes('/exported/broken'))).toBe(true)
    const s = result.snapshot.summary!
    expect(s.filesNew).toBe(3)
    expect(s.dataAdded).toBeLessThan(big.length + 100_000) // b.bin deduplicated against a.bin

    const reopened = await (await Repository.open({}, { repository: backend }, { password: 'pw' })).toIndexed()
    for (const name of ['a.bin', 'b.bin', 'small.txt']) {
      const { node } = await reopened.resolveSnapshotPath(`latest:/exported/${name}`)
      const parts: Uint8Array[] = []
      for await (const c of reopened.readFile(node)) parts.push(c)
      expect(Buffer.compare(Buffer.concat(parts), Buffer.from(files[name as 'a.bin']))).toBe(0)
      expect(node.mtime).toBe('2023-11-14T22:13:20.123456789Z')
    }
    await expect(reopened.resolveSnapshotPath('latest:/exported/broken')).rejects.toThrow(/not found/)

    // A second backup with the first as parent: nothing is re-read, nothing new is stored.
    const again = await reopened.backup(new InMemorySource(files), { snapshotPaths: ['/exported'] })
    expect(again.snapshot.parent).toBe(result.snapshot.id)
    expect(again.snapshot.summary!.filesUnmodified).toBe(3)
    expect(again.snapshot.summary!.dataAdded).toBe(0)
    expect(again.snapshot.tree).toBe(result.snapshot.tree)
  })
})

describe('a fatal error while backing up', () => {
  it('rejects the backup with that error (not an unhandled rejection) and writes no snapshot', async () => {
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const time = formatGoTime(1_700_000_000_000_000_000n)
    const base = { mtime: time, atime: time, ctime: time, uid: 0, gid: 0 }
    const source: ReadSource = {
      size: async () => undefined,
      async *entries() {
        yield { path: '/d', node: { ...base, name: 'd', type: 'dir', mode: 2 ** 31 + 0o755, content: null } as Node }
        for (let i = 0; i < 200; i++) {
          await new Promise((r) => setTimeout(r, 1)) // a source that takes its time, as a disk walk does
          const name = `f${String(i).padStart(3, '0')}`
          yield {
            path: `/d/${name}`,
            node: { ...base, name, type: 'file', mode: 0o644, size: 5, content: [] } as Node,
            open: async function* () {
              if (i === 3) throw new RusticError('Backend', 'the storage went away')
              yield new TextEncoder().encode(`${name}!`)
            },
          }
        }
      },
    }
    const indexed = await repo.toIndexed()
    await expect(indexed.backup(source, { snapshotPaths: ['/d'] })).rejects.toThrow('the storage went away')
    expect(await repo.snapshotIds()).toEqual([])
  })
})
