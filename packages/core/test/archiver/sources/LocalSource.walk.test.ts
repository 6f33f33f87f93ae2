import { lstatSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatLocalGoTime, LocalSource, serializeNode, type LocalSourceOptions } from '@rustic-ts/core/internal'
import { acquireDirectoryWorker, releaseDirectoryWorker } from '../../../src/archiver/sources/DirectoryWorker.js'
import { collect, dirWithUnstatableName, makeTree, tempDir } from './helpers.js'

let base: string
let tree: string

/**
 * A node as stored, for comparing two walks: the times of the ancestors of this file's own directory
 * (`/tmp`, ...) are left out, since other test files change them at any moment.
 */
function comparableNode(path: string, node: Parameters<typeof serializeNode>[0]): string {
  if (!base.startsWith(`${path === '/' ? '' : path}/`)) return serializeNode(node)
  const { mtime: _m, atime: _a, ctime: _c, ...rest } = JSON.parse(serializeNode(node)) as Record<string, unknown>
  return JSON.stringify(rest)
}

/** Entries (path, node as stored, whether it has content and a local path) and errors of a walk. */
async function walk(paths: string[], options: LocalSourceOptions): Promise<{ entries: unknown[]; errors: unknown[] }> {
  const { entries, errors } = await collect(new LocalSource(paths, options))
  return {
    entries: entries.map((e) => ({
      path: e.path,
      node: comparableNode(e.path, e.node),
      open: e.open !== undefined,
      localPath: e.localPath === undefined ? undefined : Buffer.from(e.localPath).toString('latin1'),
    })),
    errors: errors.map((e) => ({ path: e.path, message: String(e.error), code: (e.error as { code?: string }).code })),
  }
}

/** Runs `fn` with the shared directory worker running (so that walks do not list on this thread while it starts). */
async function withWorkerRunning<T>(fn: () => Promise<T>): Promise<T> {
  const w = acquireDirectoryWorker()
  try {
    expect((await w.list('/')).hasStats).toBe(true)
    return await fn()
  } finally {
    releaseDirectoryWorker(w)
  }
}

/** Walks with the directory worker and on the main thread: the same entries, nodes, errors and sizes. */
async function expectSameBothWays(paths: string[], options: LocalSourceOptions = {}): Promise<{ entries: unknown[]; errors: unknown[] }> {
  const [inWorker, size] = await withWorkerRunning(async () => [
    await walk(paths, { ...options, statInWorker: true }),
    await new LocalSource(paths, { ...options, statInWorker: true }).size(),
  ])
  const here = await walk(paths, { ...options, statInWorker: false })
  expect(inWorker).toEqual(here)
  expect(size).toEqual(await new LocalSource(paths, { ...options, statInWorker: false }).size())
  return inWorker
}

beforeAll(async () => {
  base = await tempDir('walk')
  tree = join(base, 'tree')
  await makeTree(tree)
  const odd = Buffer.from(join(tree, 'odd'))
  mkdirSync(odd)
  const names = [[0xff], [0x80, 0x61], [0xc3], [0xef, 0xbb, 0xbf, 0x62, 0x6f, 0x6d], [0x61, 0x0a, 0x62], [0x5c], [0xe2, 0x82, 0xac]]
  for (const n of names) writeFileSync(Buffer.concat([odd, Buffer.from('/'), Buffer.from(n)]), Buffer.from(n))
  const oddDir = Buffer.concat([odd, Buffer.from('/dir\xfe', 'latin1')])
  mkdirSync(oddDir)
  writeFileSync(Buffer.concat([oddDir, Buffer.from('/inner')]), 'inner')
  symlinkSync(Buffer.from([0x2e, 0x2e, 0x2f, 0xff]), Buffer.concat([odd, Buffer.from('/link\xfd', 'latin1')]))
  // many siblings, some directories (more than the look-ahead of 64)
  for (let i = 0; i < 150; i++) {
    const p = join(tree, 'many', `e${String(i).padStart(3, '0')}`)
    if (i % 7 === 0) {
      mkdirSync(p, { recursive: true })
      writeFileSync(join(p, 'x'), String(i))
    } else {
      mkdirSync(join(tree, 'many'), { recursive: true })
      writeFileSync(p, 'y'.repeat(i))
    }
  }
  // tagged directories
  mkdirSync(join(tree, 'tagged', 'sub'), { recursive: true })
  writeFileSync(join(tree, 'tagged', '.nobackup'), '')
  writeFileSync(join(tree, 'tagged', 'f'), 'f')
  mkdirSync(join(tree, 'cache'))
  writeFileSync(join(tree, 'cache', 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55')
  writeFileSync(join(tree, 'cache', 'blob'), 'b')
})

afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

describe('LocalSource: the directory worker and the main thread walk alike', () => {
  it('the standard tree, odd byte names, symlinks with odd targets, fifo, socket, many siblings', async () => {
    const { entries, errors } = await expectSameBothWays(['tree'], { cwd: base, includeSockets: true })
    expect(errors).toEqual([])
    const paths = entries.map((e) => (e as { path: string }).path)
    expect(paths).toContain('tree/sock')
    expect(paths).toContain('tree/many/e147')
    expect(paths).toContain('tree/odd/dir\ufffd/inner')
    expect(paths.filter((p) => p.startsWith('tree/many/')).length).toBe(150 + 22)
    // a name with a byte order mark keeps it in its bytes
    const bom = entries.find((e) => (e as { path: string }).path.endsWith('bom')) as { node: string }
    expect(JSON.parse(bom.node)).toMatchObject({ type: 'file' })
  })

  it('an absolute path with its ancestors, several targets, `.`', async () => {
    await expectSameBothWays([join(tree, 'sub'), join(tree, 'odd')])
    await expectSameBothWays(['.'], { cwd: join(tree, 'odd') })
  })

  it('excludes: patterns (also on names that are not UTF-8), tags, sizes', async () => {
    const { entries } = await expectSameBothWays(['tree'], {
      cwd: base,
      excludes: ['*.txt', 'e01?', '**/odd/\ufffd', 'dir?/inner'],
      iexcludes: ['BIG.BIN'],
      excludeIfPresent: ['.nobackup'],
      excludeCaches: true,
      excludeLargerThan: 100,
    })
    const paths = entries.map((e) => (e as { path: string }).path)
    expect(paths).not.toContain('tree/a.txt')
    expect(paths).not.toContain('tree/many/e010')
    expect(paths).not.toContain('tree/big.bin')
    expect(paths).not.toContain('tree/odd/\ufffd')
    expect(paths).toContain('tree/tagged/.nobackup')
    expect(paths).not.toContain('tree/tagged/f')
    expect(paths).not.toContain('tree/cache/blob')
    expect(paths).not.toContain('tree/many/e146')
  })

  it('an entry listed but not lstat-able is reported and left out, with the same error', async () => {
    const { dir: d, longName, undo } = await dirWithUnstatableName(base, 'ok')
    try {
      const { entries, errors } = await expectSameBothWays([d])
      expect((entries.at(-1) as { path: string }).path).toBe(join(d, 'ok'))
      expect(errors).toEqual([
        { path: join(d, longName), message: expect.stringMatching(/cannot lstat .*: ENAMETOOLONG/), code: 'ENAMETOOLONG' },
      ])
    } finally {
      await undo()
    }
  })

  it('withAtime stores the access time; otherwise atime is mtime', async () => {
    const f = join(tree, 'sub', 'deep', 'f.txt')
    utimesSync(f, new Date('2001-02-03T04:05:06.789Z'), new Date('2011-02-03T04:05:06.789Z'))
    const st = lstatSync(f, { bigint: true })
    for (const statInWorker of [true, false]) {
      const { entries } = await withWorkerRunning(() => collect(new LocalSource(['deep'], { cwd: join(tree, 'sub'), withAtime: true, statInWorker })))
      expect(entries[1]!.node.atime).toBe(formatLocalGoTime(st.atimeNs))
      expect(entries[1]!.node.atime).not.toBe(entries[1]!.node.mtime)
      const { entries: plain } = await collect(new LocalSource(['deep'], { cwd: join(tree, 'sub'), statInWorker }))
      expect(plain[1]!.node.atime).toBe(plain[1]!.node.mtime)
    }
  })

  it('a consumer that stops early ends the walk (and its worker)', async () => {
    const src = new LocalSource(['tree'], { cwd: base })
    let n = 0
    for await (const _ of src.entries()) if (++n === 5) break
    expect(n).toBe(5)
    // a fresh walk still works
    expect((await collect(src)).entries.length).toBeGreaterThan(150)
  })
})
