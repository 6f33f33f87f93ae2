import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  globMatcher,
  isRusticError,
  lsNodeJson,
  pathFilter,
  type DiffChange,
  type IndexedRepository,
} from '@rustic-ts/core/internal'
import { craftedRepo } from '../commands/crafted.js'
import { openIndexed, restic, resticBackup, tempDir, useCheapKey } from '../commands/helpers.js'

const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

describe('globMatcher and pathFilter (restic pattern rules)', () => {
  it('anchors patterns with a leading slash, matches others at any depth, and matches below a matching directory', () => {
    const m = globMatcher(['*.txt', '/data/a', 'b/c'])
    expect(m('/x/y/notes.txt')).toBe(true)
    expect(m('/data/a')).toBe(true)
    expect(m('/data/a/deep/file.bin')).toBe(true)
    expect(m('/other/data/a')).toBe(false)
    expect(m('/p/b/c/d')).toBe(true)
    expect(m('/p/b/cc')).toBe(false)
    expect(globMatcher(['README'], { ignoreCase: true })('/x/readme')).toBe(true)
    const f = pathFilter({ include: ['/src'], exclude: ['*.log'] })
    expect(f('/src/a.c')).toBe(true)
    expect(f('/src/a.log')).toBe(false)
    expect(f('/doc/a.c')).toBe(false)
    expect(pathFilter({})('/anything')).toBe(true)
  })
})

describe('ls, find, diff and dump over a restic repository', () => {
  let indexed: IndexedRepository
  let s1: string
  let s2: string
  let data: string

  beforeAll(async () => {
    const tmp = await tempDir()
    cleanups.push(tmp.remove)
    data = join(tmp.path, 'data')
    await mkdir(join(data, 'a', 'b'), { recursive: true })
    await writeFile(join(data, 'a', 'one.txt'), 'one\n')
    await writeFile(join(data, 'a', 'b', 'two.TXT'), 'two\n')
    await writeFile(join(data, 'gone.bin'), Buffer.alloc(5000, 7))
    const repo = join(tmp.path, 'repo')
    await restic(repo, ['init'])
    await useCheapKey(repo) // every later restic run and open is fast
    s1 = await resticBackup(repo, tmp.path, 'data')
    await appendFile(join(data, 'a', 'one.txt'), 'more\n')
    await rm(join(data, 'gone.bin'))
    await mkdir(join(data, 'new'))
    await writeFile(join(data, 'new', 'three.txt'), 'three\n')
    s2 = await resticBackup(repo, tmp.path, 'data')
    indexed = await openIndexed(repo)
  })

  it('ls lists recursively or one level, with include/exclude, and formats restic JSON lines', async () => {
    const { node, path } = await indexed.resolveSnapshotPath(`${s2}:/data`)
    const all = (await collect(indexed.ls(node, path))).map((e) => e.path)
    expect(all).toEqual(['/data/a', '/data/a/b', '/data/a/b/two.TXT', '/data/a/one.txt', '/data/new', '/data/new/three.txt'])
    expect((await collect(indexed.ls(node, path, { recursive: false }))).map((e) => e.path)).toEqual(['/data/a', '/data/new'])
    expect((await collect(indexed.ls(node, path, { include: ['*.txt'], exclude: ['/data/new'] }))).map((e) => e.path)).toEqual([
      '/data/a/one.txt',
    ])
    const file = (await collect(indexed.ls(node, path))).find((e) => e.path === '/data/a/one.txt')!
    const json = JSON.parse(lsNodeJson(file.node, file.path)) as Record<string, unknown>
    expect(Object.keys(json)).toEqual(['name', 'type', 'path', 'uid', 'gid', 'size', 'mode', 'permissions', 'mtime', 'atime', 'ctime', 'struct_type'])
    expect(json['size']).toBe(9)
    expect(json['permissions']).toBe('-rw-r--r--')
  })

  it('find searches newest snapshot first, with ignoreCase, snapshot selection and time bounds', async () => {
    const hits = await collect(indexed.find(['*.txt']))
    expect(hits.map((h) => h.snapshot.id!.slice(0, 8))).toEqual([s2.slice(0, 8), s1.slice(0, 8)])
    expect(hits[0]!.matches.map((m) => m.path)).toEqual(['/data/a/one.txt', '/data/new/three.txt'])
    const ci = await collect(indexed.find(['*.txt'], { ignoreCase: true, snapshots: [s1] }))
    expect(ci).toHaveLength(1)
    expect(ci[0]!.matches.map((m) => m.path)).toEqual(['/data/a/b/two.TXT', '/data/a/one.txt'])
    expect(await collect(indexed.find(['*.txt'], { newest: '2000-01-01' }))).toEqual([])
    await expect(collect(indexed.find([]))).rejects.toThrow(/at least one pattern/)
  })

  it('diff reports added, removed and modified entries with restic statistics', async () => {
    const a = await indexed.resolveSnapshotPath(s1)
    const b = await indexed.resolveSnapshotPath(s2)
    const { changes, stats } = await indexed.diff(a.node, b.node)
    expect(changes.map((c) => `${c.modifier} ${c.path}`)).toEqual(['M /data/a/one.txt', '- /data/gone.bin', '+ /data/new/', '+ /data/new/three.txt'])
    expect(stats.changedFiles).toBe(1)
    expect(stats.added).toMatchObject({ files: 1, dirs: 1, others: 0, dataBlobs: 2 })
    expect(stats.removed).toMatchObject({ files: 1, dirs: 0, dataBlobs: 2 })
    const seen: DiffChange[] = []
    const withMeta = await indexed.diff(a.node, b.node, { metadata: true, onChange: (c) => seen.push(c) })
    expect(withMeta.changes).toEqual([])
    expect(seen.some((c) => c.modifier === 'U' && c.path === '/data/')).toBe(true)
    const file = await indexed.resolveSnapshotPath(`${s1}:/data/a/one.txt`)
    await expect(indexed.diff(file.node, b.node)).rejects.toThrow(/not a directory/)
  })

  it('dump gives a file, or a directory as tar', async () => {
    const f = await indexed.resolveSnapshotPath(`${s2}:/data/a/one.txt`)
    expect(Buffer.concat(await collect(indexed.dump(f.node, f.path))).toString()).toBe(await readFile(join(data, 'a', 'one.txt'), 'utf8'))
    const d = await indexed.resolveSnapshotPath(`${s2}:/data/a`)
    const bytes = Buffer.concat(await collect(indexed.dump(d.node, d.path)))
    const ex = tar.extract()
    Readable.from([bytes]).pipe(ex)
    const names: string[] = []
    for await (const e of ex) {
      names.push(`${e.header.type}:${e.header.name}:${e.header.size}`)
      e.resume()
    }
    expect(names).toEqual(['directory:data/a/b/:0', 'file:data/a/b/two.TXT:4', 'file:data/a/one.txt:9'])
    const link = await indexed.resolveSnapshotPath(`${s2}`)
    expect(() => indexed.dump({ ...link.node, type: 'symlink' }, '/x')).toThrow(/dump writes files and directories/)
  })

  it('dump refuses a tree with an unsafe name', async () => {
    const crafted = await craftedRepo('../escape')
    const { node, path } = await crafted.resolveSnapshotPath('latest')
    const err = await collect(crafted.dump(node, path)).catch((e: unknown) => e)
    expect(isRusticError(err, 'UnsafeName')).toBe(true)
  })
})
