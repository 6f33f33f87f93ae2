import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { MemoryBackend, Repository, SealPool, formatGoTime, type Id, type IndexedRepository, type Node, type ReadSource, type ReadSourceEntry } from '@rustic-ts/core/internal'

const time = formatGoTime(1_700_000_000_000_000_000n)
const base = { mtime: time, atime: time, ctime: time, uid: 1000, gid: 1000 }
const dir = (name: string): Node => ({ ...base, name, type: 'dir', mode: 2 ** 31 + 0o755, content: null })

/** `/d` holding directories of files (path -> text), plus a symlink; entries in the order a walk gives them. */
function source(files: Record<string, string>, extra: ReadSourceEntry[] = []): ReadSource {
  return {
    size: async () => undefined,
    async *entries() {
      yield { path: '/d', node: dir('d') }
      let open = ''
      for (const path of Object.keys(files).sort()) {
        const [sub, name] = path.split('/') as [string, string]
        if (sub !== open) {
          yield { path: `/d/${sub}`, node: dir(sub) }
          open = sub
        }
        const data = new TextEncoder().encode(files[path])
        yield {
          path: `/d/${path}`,
          node: { ...base, name, type: 'file', mode: 0o644, size: data.length, content: [] },
          open: async function* () {
            yield data
          },
        }
      }
      yield { path: '/d/z-link', node: { ...base, name: 'z-link', type: 'symlink', mode: 0o777 | 2 ** 27, linktarget: 's1/a', content: null } }
      yield* extra
    },
  }
}

async function subtree(indexed: IndexedRepository, snapshotTree: Id, path: string): Promise<Id | undefined> {
  return (await indexed.nodeAtPath(snapshotTree, path)).subtree
}

describe('trees of directories unchanged since the parent snapshot', () => {
  it('are the parent trees, not written again; only the changed path gets new trees', async () => {
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const indexed = await repo.toIndexed()
    const files = { 's1/a': 'alpha', 's1/b': 'beta', 's2/c': 'gamma' }
    const first = await indexed.backup(source(files), { snapshotPaths: ['/d'] })

    const same = await indexed.backup(source(files), { snapshotPaths: ['/d'] })
    expect(same.snapshot.tree).toBe(first.snapshot.tree)
    expect(same.snapshot.summary!.treeBlobs).toBe(0)
    expect(same.snapshot.summary!.dirsUnmodified).toBe(first.snapshot.summary!.dirsNew)
    // the sizes of the trees reused count as processed, as when they are written
    expect(same.snapshot.summary!.totalDirsizeProcessed).toBe(first.snapshot.summary!.totalDirsizeProcessed)

    const changed = await indexed.backup(source({ ...files, 's2/c': 'gamma, changed' }), { snapshotPaths: ['/d'] })
    const s = changed.snapshot.summary!
    expect(s.filesChanged).toBe(1)
    expect(s.filesUnmodified).toBe(2)
    expect(s.treeBlobs).toBe(3) // s2, d and the snapshot's root
    expect(await subtree(indexed, changed.snapshot.tree, '/d/s1')).toBe(await subtree(indexed, first.snapshot.tree, '/d/s1'))
    expect(await subtree(indexed, changed.snapshot.tree, '/d/s2')).not.toBe(await subtree(indexed, first.snapshot.tree, '/d/s2'))
    const { node } = await indexed.resolveSnapshotPath(`${changed.snapshot.id}:/d/s2/c`)
    const parts: Uint8Array[] = []
    for await (const c of indexed.readFile(node)) parts.push(c)
    expect(Buffer.concat(parts).toString()).toBe('gamma, changed')

    // a file gone: its directory's tree is written without it
    const { 's1/b': _gone, ...fewer } = files
    const removed = await indexed.backup(source(fewer), { snapshotPaths: ['/d'] })
    expect((await indexed.getTree((await subtree(indexed, removed.snapshot.tree, '/d/s1'))!)).map((n) => n.name)).toEqual(['a'])
  })

  it('a source giving a name twice still fails, even where the parent tree would match in number', async () => {
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
    const indexed = await repo.toIndexed()
    const link = (name: string): ReadSourceEntry => ({
      path: `/d/${name}`,
      node: { ...base, name, type: 'symlink', mode: 0o777 | 2 ** 27, linktarget: 'x', content: null },
    })
    await indexed.backup(source({}, [link('z1'), link('z2')]), { snapshotPaths: ['/d'] })
    await expect(indexed.backup(source({}, [link('z1'), link('z1')]), { snapshotPaths: ['/d'] })).rejects.toMatchObject({
      code: 'DuplicateName',
    })
  })
})

describe('the seal workers', () => {
  it('start with the first file that has bytes to read, not for empty files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rustic-archiver-empty-'))
    const start = vi.spyOn(SealPool, 'start')
    try {
      const names = ['e0', 'e1', 'e2', 'full']
      for (const n of names) await writeFile(join(root, n), n === 'full' ? 'some bytes' : '')
      const local = (only: string[]): ReadSource => ({
        size: async () => undefined,
        async *entries() {
          yield { path: '/d', node: dir('d') }
          for (const name of only) {
            const path = join(root, name)
            const size = (await stat(path)).size
            yield { path: `/d/${name}`, node: { ...base, name, type: 'file', mode: 0o644, size, content: [] }, localPath: path }
          }
        },
      })
      const repo = await Repository.init({}, { repository: new MemoryBackend() }, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
      const indexed = await repo.toIndexed()
      const empty = await indexed.backup(local(['e0', 'e1', 'e2']), { snapshotPaths: ['/d'] })
      expect(empty.snapshot.summary!.filesNew).toBe(3)
      expect(empty.snapshot.summary!.dataBlobs).toBe(0)
      expect(start).not.toHaveBeenCalled()
      const full = await indexed.backup(local(names), { snapshotPaths: ['/d'] })
      expect(full.snapshot.summary!.dataBlobs).toBe(1)
      expect(start).toHaveBeenCalledTimes(1)
    } finally {
      start.mockRestore()
      await rm(root, { recursive: true, force: true })
    }
  })
})
