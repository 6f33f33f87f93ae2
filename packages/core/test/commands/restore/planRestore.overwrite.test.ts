import { mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBackend, Repository, type IndexedRepository, type Node, type RestoreOptions } from '@rustic-ts/core/internal'
import { tempDir } from '../helpers.js'

/** restic's `--overwrite` modes, decided by `planRestore` and carried out by `restore`. */

const T0 = new Date('2024-01-01T00:00:00Z')
const OLDER = new Date('2023-01-01T00:00:00Z')
const NEWER = new Date('2025-01-01T00:00:00Z')

let tmp: Awaited<ReturnType<typeof tempDir>>
let indexed: IndexedRepository
let root: Node
let n = 0

beforeAll(async () => {
  tmp = await tempDir('rustic-overwrite-')
  const src = join(tmp.path, 'src')
  await mkdir(join(src, 'dir'), { recursive: true })
  for (const f of ['older.txt', 'newer.txt', 'same.txt', 'absent.txt', 'dir/inner.txt']) {
    await writeFile(join(src, f), `snapshot ${f}\n`)
    await utimes(join(src, f), T0, T0)
  }
  await symlink('older.txt', join(src, 'link'))
  const backends = { repository: new MemoryBackend() }
  await Repository.init({}, backends, { password: 'pw' }, { kdf: { N: 1024, r: 8, p: 1 } })
  const repo = await Repository.open({ noCache: true }, backends, { password: 'pw' })
  indexed = await repo.toIndexed()
  const { snapshot } = await indexed.backup([src])
  ;({ node: root } = await indexed.resolveSnapshotPath(`${snapshot.id}:${src}`))
})
afterAll(async () => tmp?.remove())

/** A target holding changed copies: older, newer and same-time than the snapshot's, a file where `dir` is. */
async function changedTarget(): Promise<{ target: string; read: (f: string) => Promise<string> }> {
  const target = join(tmp.path, `target-${n++}`)
  await mkdir(target)
  const put = async (f: string, text: string, time: Date): Promise<void> => {
    await writeFile(join(target, f), text)
    await utimes(join(target, f), time, time)
  }
  await put('older.txt', 'local older\n', OLDER)
  await put('newer.txt', 'local newer\n', NEWER)
  await put('same.txt', 'local same time!\n', T0)
  await put('dir', 'a file where the snapshot has a directory\n', OLDER)
  return { target, read: (f) => readFile(join(target, f), 'utf8') }
}

async function restoreWith(target: string, options: RestoreOptions) {
  const plan = await indexed.planRestore(root, target, options)
  await indexed.restore(plan)
  return plan
}

describe('restore overwrite modes', () => {
  it('never: no existing entry changes (content, mtime, mode); only missing entries are restored', async () => {
    const { target, read } = await changedTarget()
    const before = await Promise.all(['older.txt', 'newer.txt', 'same.txt', 'dir'].map((f) => stat(join(target, f))))
    const plan = await restoreWith(target, { overwrite: 'never' })
    expect(plan.stats.files).toMatchObject({ create: 1, modify: 0, kept: 3 })
    expect(plan.stats.dirs.kept).toBe(1)
    expect(plan.removals).toEqual([])
    expect(await read('older.txt')).toBe('local older\n')
    expect(await read('newer.txt')).toBe('local newer\n')
    expect(await read('same.txt')).toBe('local same time!\n')
    expect(await read('dir')).toBe('a file where the snapshot has a directory\n')
    const after = await Promise.all(['older.txt', 'newer.txt', 'same.txt', 'dir'].map((f) => stat(join(target, f))))
    after.forEach((a, i) => {
      expect(a.mtimeMs).toBe(before[i]!.mtimeMs)
      expect(a.mode).toBe(before[i]!.mode)
    })
    expect(await read('absent.txt')).toBe('snapshot absent.txt\n')
  })

  it('if-newer: only entries older than the snapshot are replaced', async () => {
    const { target, read } = await changedTarget()
    const plan = await restoreWith(target, { overwrite: 'if-newer' })
    expect([...plan.entries].find((e) => e.path === '/older.txt')!.action).toBe('modify')
    expect([...plan.entries].find((e) => e.path === '/newer.txt')!.action).toBe('kept')
    expect([...plan.entries].find((e) => e.path === '/same.txt')!.action).toBe('kept')
    expect(await read('older.txt')).toBe('snapshot older.txt\n')
    expect((await stat(join(target, 'older.txt'))).mtime).toEqual(T0)
    expect(await read('newer.txt')).toBe('local newer\n')
    expect(await read('same.txt')).toBe('local same time!\n')
    // the file in place of `dir` is older: replaced by the directory and its contents
    expect(await read('dir/inner.txt')).toBe('snapshot dir/inner.txt\n')
  })

  it('if-changed (the default) trusts size and mtime; always hashes every existing file', async () => {
    const { target, read } = await changedTarget()
    const plan = await restoreWith(target, {})
    expect(plan.options.overwrite).toBe('if-changed')
    // same size and mtime as the snapshot's: taken as unchanged without reading it
    await writeFile(join(target, 'older.txt'), 'snapshot olderXtxt\n')
    await utimes(join(target, 'older.txt'), T0, T0)
    expect([...(await indexed.planRestore(root, target)).entries].find((e) => e.path === '/older.txt')!.action).toBe('unchanged')
    await restoreWith(target, { overwrite: 'always' })
    for (const f of ['older.txt', 'newer.txt', 'same.txt', 'absent.txt', 'dir/inner.txt']) expect(await read(f)).toBe(`snapshot ${f}\n`)
  })

  it('an unknown mode is an InvalidOptions error naming the option', async () => {
    await expect(indexed.planRestore(root, tmp.path, { overwrite: 'sometimes' as never })).rejects.toMatchObject({ code: 'InvalidOptions', message: expect.stringContaining('overwrite') })
  })
})
