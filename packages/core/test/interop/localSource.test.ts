import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalSource, type LocalSourceOptions, type ReadSourceEntry } from '@rustic-ts/core/internal'
import { collect, LATIN1_NAME, lsPaths, makeResticRepo, makeTree, ourNodeObject, resticNodeObject, tempDir, type ResticRepo } from '../archiver/sources/helpers.js'

let repo: ResticRepo
let base: string
let tree: string

beforeAll(async () => {
  ;[repo, base] = await Promise.all([makeResticRepo(), tempDir('src')])
  tree = join(base, 'tree')
  await makeTree(tree)
  await mkdir(join(base, 'other', 'x'), { recursive: true })
  await writeFile(join(base, 'other', 'x', 'o.txt'), 'other\n')
  await writeFile(join(tree, 'sub', 'tree'), 'a file named like a top-level dir\n')
})

afterAll(async () => {
  await Promise.all([repo?.cleanup(), base && rm(base, { recursive: true, force: true })])
})

/**
 * Backs up `paths` with restic (in `cwd`) and walks them with LocalSource: same paths in the same
 * order, and the same node metadata for everything inside `base` (ancestors above it, like `/tmp`,
 * may change meanwhile): every field of the tree blobs (`full`), or those `restic ls --json` shows.
 */
async function compareWithRestic(
  paths: string[],
  cwd: string,
  resticArgs: string[] = [],
  options: LocalSourceOptions = {},
  full = false,
): Promise<ReadSourceEntry[]> {
  const id = await repo.backup([...resticArgs, ...paths], { cwd })
  const theirs = full ? await repo.nodes(id) : (await repo.ls(id)).map((o) => ({ path: o.path, node: o }))
  const { entries, errors } = await collect(new LocalSource(paths, { cwd, ...options }))
  expect(errors).toEqual([])
  expect(lsPaths(entries)).toEqual(theirs.map((t) => t.path))
  const baseDepth = base.split('/').length - 1
  entries.forEach((e, i) => {
    const absolute = e.path.startsWith('/')
    if (absolute && e.path.split('/').length - 1 < baseDepth) {
      expect(e.node.type).toBe(theirs[i]!.node['type'])
      return
    }
    const ours = ourNodeObject(e.node)
    const want = resticNodeObject(theirs[i]!.node)
    if (!full) {
      for (const k of ['struct_type', 'path', 'permissions']) delete want[k]
      if (e.node.type === 'file') ours['size'] ??= 0 // ls prints a file's size even when 0
      for (const k of Object.keys(ours)) if (!(k in want)) delete ours[k]
      ours['name'] = e.node.name // ls prints decoded names
    }
    expect({ path: e.path, node: ours }).toEqual({ path: e.path, node: want })
  })
  return entries
}

describe('LocalSource against restic 0.14', () => {
  it('an absolute path: ancestors first, then the tree depth-first in byte order', async () => {
    const entries = await compareWithRestic([tree], base, [], {}, true)
    const paths = entries.map((e) => e.path)
    const parts = tree.split('/').filter((p) => p !== '')
    expect(paths.slice(0, parts.length)).toEqual(parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/')))
    const rel = paths.slice(parts.length).map((p) => p.slice(tree.length))
    expect(rel).toEqual([
      '/B.txt',
      '/a.txt',
      '/big.bin',
      '/caf\ufffd',
      '/dangling',
      '/empty',
      '/fifo',
      '/hardlink',
      '/sub',
      '/sub/deep',
      '/sub/deep/f.txt',
      '/sub/link',
      '/sub/tree',
      '/\uFF21',
      '/\u{1F600}',
    ])
    const byPath = new Map(entries.map((e) => [e.path.slice(tree.length), e]))
    expect(Buffer.from(byPath.get('/caf\ufffd')!.node.nameRaw!)).toEqual(LATIN1_NAME)
    expect(byPath.get('/sub/link')!.node.linktarget).toBe('../a.txt')
    expect(byPath.get('/fifo')!.node.type).toBe('fifo')
    expect(byPath.get('/fifo')!.open).toBeUndefined()
    expect(byPath.get('/empty')!.node.type).toBe('dir')
    expect(byPath.get('/sub')!.open).toBeUndefined()
    expect(byPath.get('/hardlink')!.node.links).toBe(2)
    // content streams read the files
    const big = byPath.get('/big.bin')!
    const h = createHash('sha256')
    let chunks = 0
    for await (const c of await big.open!()) {
      h.update(c)
      chunks++
    }
    expect(h.digest('hex')).toBe(createHash('sha256').update(await readFile(join(tree, 'big.bin'))).digest('hex'))
    expect(chunks).toBe(1) // large chunks: 300 kB in one read
    const latin1: Buffer[] = []
    for await (const c of await byPath.get('/caf\ufffd')!.open!()) latin1.push(Buffer.from(c))
    expect(Buffer.concat(latin1).toString()).toBe('latin1 name')
  })

  it('a relative path is stored as itself, without ancestors', async () => {
    const entries = await compareWithRestic(['tree/sub'], base)
    expect(entries.map((e) => e.path)).toEqual(['tree', 'tree/sub', 'tree/sub/deep', 'tree/sub/deep/f.txt', 'tree/sub/link', 'tree/sub/tree'])
  })

  it('`.` is stored as its contents', async () => {
    const entries = await compareWithRestic(['.'], join(tree, 'sub'))
    expect(entries.map((e) => e.path)).toEqual(['deep', 'deep/f.txt', 'link', 'tree'])
  })

  it('several paths share their ancestors; a path inside another is merged', async () => {
    const entries = await compareWithRestic([join(tree, 'sub', 'deep'), join(base, 'other'), join(tree, 'empty'), join(tree, 'sub')], base)
    const paths = entries.map((e) => e.path)
    expect(new Set(paths).size).toBe(paths.length)
  })

  it('relative paths with `..` and a name clash between roots (`x-1`)', async () => {
    const entries = await compareWithRestic(['tree', '../../other/x', '../../tree', '../../other'], join(tree, 'sub'))
    const paths = entries.map((e) => e.path)
    expect(paths.slice(0, 4)).toEqual(['other', 'other/x', 'other/x/o.txt', 'tree'])
    expect(paths).toContain('tree-1/sub/deep/f.txt')
  })

  it('the excludes as restic applies them', async () => {
    const excludeFile = join(base, 'excludes.txt')
    await writeFile(excludeFile, '# comment\n\n  *.bin  \n/nonexistent/**\n')
    await writeFile(join(tree, 'sub', 'deep', '.nobackup'), '')
    try {
      const entries = await compareWithRestic(
        [tree],
        base,
        ['--exclude', 'B.txt', '--exclude', 'sub/link', '--iexclude', 'HARDLINK', '--exclude-file', excludeFile, '--exclude-if-present', '.nobackup', '--exclude-larger-than', '10'],
        {
          excludes: ['B.txt', 'sub/link'],
          iexcludes: ['HARDLINK'],
          excludeFiles: [excludeFile],
          excludeIfPresent: ['.nobackup'],
          excludeLargerThan: 10,
        },
      )
      const rel = entries.map((e) => e.path.slice(tree.length)).filter((p) => p.startsWith('/'))
      expect(rel).toEqual(['/a.txt', '/dangling', '/empty', '/fifo', '/sub', '/sub/deep', '/sub/deep/.nobackup', '/\u{1F600}'])
    } finally {
      await rm(join(tree, 'sub', 'deep', '.nobackup'))
    }
  })
})

describe('LocalSource without restic', () => {
  it('size() counts the files and bytes that entries() yields', async () => {
    const src = new LocalSource([tree], { excludes: ['*.bin'] })
    const { entries } = await collect(src)
    const files = entries.filter((e) => e.node.type === 'file')
    expect(await src.size()).toEqual({ files: files.length, bytes: files.reduce((n, e) => n + (e.node.size ?? 0), 0) })
    expect(files.length).toBe(8)
  })

  it('sockets only with includeSockets; atime only with withAtime; device id unless ignoreDevid', async () => {
    const { entries } = await collect(new LocalSource(['.'], { cwd: tree, includeSockets: true, withAtime: true, ignoreDevid: true }))
    const sock = entries.find((e) => e.path === 'sock')
    expect(sock?.node.type).toBe('socket')
    expect(sock?.open).toBeUndefined()
    expect(entries.every((e) => e.node.deviceId === undefined)).toBe(true)
    const { entries: plain } = await collect(new LocalSource(['.'], { cwd: tree }))
    expect(plain.find((e) => e.path === 'sock')).toBeUndefined()
    expect(plain.every((e) => e.node.atime === e.node.mtime && e.node.deviceId !== undefined)).toBe(true)
  })

  it('a missing source path is reported and skipped; the others are walked', async () => {
    const { entries, errors } = await collect(new LocalSource(['missing', 'tree/sub/deep'], { cwd: base }))
    expect(entries.map((e) => e.path)).toEqual(['tree', 'tree/sub', 'tree/sub/deep', 'tree/sub/deep/f.txt'])
    expect(errors).toHaveLength(1)
    expect(errors[0]!.path).toBe(join(base, 'missing'))
    expect(String(errors[0]!.error)).toMatch(/ENOENT/)
  })

  it('snapshotPaths() are the absolute paths restic records', () => {
    expect(new LocalSource(['.', 'a/../b', '/x/'], { cwd: '/base/dir' }).snapshotPaths()).toEqual(['/base/dir', '/base/dir/b', '/x'])
  })

  it('xattrs come from the xattrReader when one is given (none with readXattrs: false)', async () => {
    const reader = async (path: Buffer): Promise<Array<{ name: string; value: Uint8Array }>> =>
      path.toString().endsWith('f.txt') ? [{ name: 'user.test', value: new Uint8Array([1, 2]) }] : []
    const { entries } = await collect(new LocalSource(['deep'], { cwd: join(tree, 'sub'), xattrReader: reader }))
    expect(entries.map((e) => e.node.extendedAttributes)).toEqual([undefined, [{ name: 'user.test', value: new Uint8Array([1, 2]) }]])
    const { entries: off } = await collect(new LocalSource(['deep'], { cwd: join(tree, 'sub'), xattrReader: reader, readXattrs: false }))
    expect(off.every((e) => e.node.extendedAttributes === undefined)).toBe(true)
  })

  it('stops when the signal is aborted', async () => {
    const ac = new AbortController()
    const src = new LocalSource([tree])
    const seen: string[] = []
    await expect(
      (async () => {
        for await (const e of src.entries({ signal: ac.signal })) {
          seen.push(e.path)
          if (seen.length === 3) ac.abort()
        }
      })(),
    ).rejects.toMatchObject({ code: 'Aborted' })
    expect(seen).toHaveLength(3)
  })

  it('a file replaced by a symlink after the walk is refused when opened', async () => {
    const dir = await tempDir('swap')
    try {
      await writeFile(join(dir, 'f'), 'x')
      const { entries } = await collect(new LocalSource(['f'], { cwd: dir }))
      await rm(join(dir, 'f'))
      await (await import('node:fs/promises')).symlink('/etc/passwd', join(dir, 'f'))
      await expect(Promise.resolve(entries[0]!.open!())).rejects.toMatchObject({ kind: 'InputOutput' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
