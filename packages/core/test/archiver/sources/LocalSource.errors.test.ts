import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { LocalSource } from '@rustic-ts/core/internal'
import { collect, tempDir } from './helpers.js'

/** Injected failures: `fn:path` -> errno code. */
const failures = vi.hoisted(() => new Map<string, string>())

vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs/promises')>()
  const wrap =
    <A extends unknown[], R>(name: string, fn: (p: unknown, ...rest: A) => Promise<R>) =>
    async (p: unknown, ...rest: A): Promise<R> => {
      const code = failures.get(`${name}:${Buffer.isBuffer(p) ? p.toString() : String(p)}`)
      if (code) throw Object.assign(new Error(`${code}: injected failure, ${name} '${String(p)}'`), { code })
      return fn(p, ...rest)
    }
  return {
    ...orig,
    readdir: wrap('readdir', orig.readdir as (p: unknown, ...rest: unknown[]) => Promise<unknown>),
    lstat: wrap('lstat', orig.lstat as (p: unknown, ...rest: unknown[]) => Promise<unknown>),
    readlink: wrap('readlink', orig.readlink as (p: unknown, ...rest: unknown[]) => Promise<unknown>),
  }
})

let dir: string

beforeAll(async () => {
  dir = await tempDir('srcerr')
  for (const d of ['a', 'b/inner', 'c']) await mkdir(join(dir, d), { recursive: true })
  await writeFile(join(dir, 'a', 'f1'), '1')
  await writeFile(join(dir, 'a', 'f2'), '2')
  await writeFile(join(dir, 'b', 'inner', 'g'), 'g')
  await writeFile(join(dir, 'c', 'h'), 'h')
  await symlink('f1', join(dir, 'a', 'l'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
beforeEach(() => failures.clear())

const walk = async (): Promise<{ paths: string[]; errors: Array<{ path: string; message: string }> }> => {
  const { entries, errors } = await collect(new LocalSource(['.'], { cwd: dir, statInWorker: false }))
  return { paths: entries.map((e) => e.path), errors: errors.map((e) => ({ path: e.path, message: String(e.error) })) }
}

describe('LocalSource read errors: reported, left out, the walk goes on', () => {
  it('no errors', async () => {
    expect((await walk()).paths).toEqual(['a', 'a/f1', 'a/f2', 'a/l', 'b', 'b/inner', 'b/inner/g', 'c', 'c/h'])
  })

  it('an unreadable directory is left out with its contents', async () => {
    failures.set(`readdir:${join(dir, 'b')}`, 'EACCES')
    const r = await walk()
    expect(r.paths).toEqual(['a', 'a/f1', 'a/f2', 'a/l', 'c', 'c/h'])
    expect(r.errors).toEqual([{ path: join(dir, 'b'), message: expect.stringMatching(/cannot read directory .*\/b: EACCES/) }])
  })

  it('an lstat failure skips that item only', async () => {
    failures.set(`lstat:${join(dir, 'a', 'f1')}`, 'EIO')
    const r = await walk()
    expect(r.paths).toEqual(['a', 'a/f2', 'a/l', 'b', 'b/inner', 'b/inner/g', 'c', 'c/h'])
    expect(r.errors).toEqual([{ path: join(dir, 'a', 'f1'), message: expect.stringMatching(/EIO/) }])
  })

  it('a readlink failure skips the symlink', async () => {
    failures.set(`readlink:${join(dir, 'a', 'l')}`, 'EIO')
    const r = await walk()
    expect(r.paths).toEqual(['a', 'a/f1', 'a/f2', 'b', 'b/inner', 'b/inner/g', 'c', 'c/h'])
    expect(r.errors.map((e) => e.path)).toEqual([join(dir, 'a', 'l')])
  })

  it('an unreadable source directory: its ancestors and the error', async () => {
    failures.set(`readdir:${join(dir, 'c')}`, 'EACCES')
    const { entries, errors } = await collect(new LocalSource([join(dir, 'c')], { statInWorker: false }))
    const parts = dir.split('/').slice(1)
    expect(entries.map((e) => e.path)).toEqual(parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/')))
    expect(errors.map((e) => e.path)).toEqual([join(dir, 'c')])
  })

  it('a directory removed during the walk', async () => {
    const d = await tempDir('vanish')
    try {
      await mkdir(join(d, 'x', 'gone', 'deeper'), { recursive: true })
      await writeFile(join(d, 'x', 'gone', 'deeper', 'f'), 'f')
      await writeFile(join(d, 'x', 'a'), 'a')
      await writeFile(join(d, 'x', 'z'), 'z')
      const paths: string[] = []
      const errors: string[] = []
      for await (const e of new LocalSource(['x'], { cwd: d }).entries({ onError: (p) => errors.push(p) })) {
        paths.push(e.path)
        // the walk is lazy: the contents of x/gone are looked at only after it was consumed
        if (e.path === 'x/gone') await rm(join(d, 'x', 'gone', 'deeper'), { recursive: true })
      }
      expect(paths).toEqual(['x', 'x/a', 'x/gone', 'x/z'])
      expect(errors).toEqual([join(d, 'x', 'gone', 'deeper')])
    } finally {
      await rm(d, { recursive: true, force: true })
    }
  })

  it.skipIf(process.getuid?.() === 0)('a chmod 000 directory (not as root, who may read it anyway)', async () => {
    await chmod(join(dir, 'b'), 0)
    try {
      const r = await walk()
      expect(r.paths).toEqual(['a', 'a/f1', 'a/f2', 'a/l', 'c', 'c/h'])
      expect(r.errors.map((e) => e.path)).toEqual([join(dir, 'b')])
    } finally {
      await chmod(join(dir, 'b'), 0o755)
    }
  })
})
