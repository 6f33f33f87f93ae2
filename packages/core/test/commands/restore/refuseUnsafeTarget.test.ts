import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { isRusticError, Repository, type IndexedRepository, type RestoreOptions } from '@rustic-ts/core'

const password = 'unsafe-target-pw'
const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

let root: string
let repoPath: string
let indexed: IndexedRepository
let snapshotId: string

/** A local repository at `root/repo` with one snapshot of `root/src` (a 0700 directory `private`, a file named `repo`). */
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rustic-unsafe-target-'))
  repoPath = join(root, 'repo')
  const src = join(root, 'src')
  await mkdir(join(src, 'private'), { recursive: true, mode: 0o700 })
  await writeFile(join(src, 'private', 'secret'), 'secret\n', { mode: 0o600 })
  await writeFile(join(src, 'repo'), 'a file with the repository directory name\n')
  const repo = await Repository.init({}, { repository: new LocalBackend(repoPath) }, { password }, { kdf: { N: 1024, r: 8, p: 1 } })
  indexed = await repo.toIndexed()
  const r = await indexed.backup('.', { local: { cwd: src } })
  snapshotId = r.snapshot.id!
}, 60_000)
afterAll(async () => {
  await indexed?.repo.close()
  await rm(root, { recursive: true, force: true })
})

async function plan(target: unknown, options: RestoreOptions = {}, path = '') {
  const { node } = await indexed.resolveSnapshotPath(`${snapshotId}:${path}`)
  return indexed.planRestore(node, target as string, options)
}

async function refused(target: unknown, options: RestoreOptions = {}): Promise<string> {
  const err = await errorOf(plan(target, options))
  expect(isRusticError(err, 'UnsafeTarget'), String(err)).toBe(true)
  return (err as Error).message
}

describe('restore refuses unsafe targets before anything is written', () => {
  it('an empty or missing target (restic: "Please specify a directory to restore to")', async () => {
    for (const target of ['', '  ', undefined, null]) {
      expect(await refused(target)).toBe('no restore target given: name the directory to restore into')
      expect(await refused(target, { delete: true })).toBe('no restore target given: name the directory to restore into')
    }
  })

  it('delete into / (planned only: the plan is refused before anything is looked at)', async () => {
    expect(await refused('/', { delete: true })).toMatch(/^refusing to restore with delete into \/: /)
    expect(await refused('/.', { delete: true })).toMatch(/^refusing to restore with delete into \/: /)
  })

  it('delete into the repository, a directory holding it or one inside it, also through a symlink', async () => {
    await symlink(repoPath, join(root, 'link-to-repo'))
    expect(await refused(repoPath, { delete: true })).toBe(`refusing to restore with delete into ${repoPath}: it lies inside the repository ${repoPath}`)
    expect(await refused(root, { delete: true })).toBe(`refusing to restore with delete into ${root}: it holds the repository ${repoPath}`)
    expect(await refused(join(repoPath, 'data'), { delete: true })).toMatch(/lies inside the repository/)
    expect(await refused(join(root, 'link-to-repo'), { delete: true })).toMatch(/lies inside the repository/)
    expect(await readdir(repoPath)).toContain('config')
  })

  it('a plan that would remove the repository to make room for an entry of the snapshot', async () => {
    // the snapshot's file `repo` is in the way of the repository's directory: without delete it would be replaced
    const err = await errorOf(plan(root))
    expect(isRusticError(err, 'UnsafeTarget'), String(err)).toBe(true)
    expect((err as Error).message).toBe(`refusing to restore: it would remove ${repoPath}, which holds the repository ${repoPath}`)
  })

  it('allows a target next to the repository, with delete', async () => {
    const target = join(root, 'out')
    const p = await plan(target, { delete: true })
    await indexed.restore(p)
    expect((await readdir(target)).sort()).toEqual(['private', 'repo'])
  })
})

describe('restore options', () => {
  it('a malformed include or exclude pattern is refused as backup refuses a malformed exclude', async () => {
    for (const [key, what] of [['include', 'include'], ['exclude', 'exclude']] as const) {
      const err = await errorOf(plan(join(root, 'never'), { [key]: ['ok', '['] }))
      expect(isRusticError(err, 'InvalidOptions'), String(err)).toBe(true)
      expect((err as Error).message).toBe(`invalid restore options: ${key}[1]: invalid ${what} pattern "[": unterminated [`)
    }
    await expect(stat(join(root, 'never'))).rejects.toThrow(/ENOENT/)
  })
})

describe('restore of a sub-path', () => {
  it('gives the target directory it creates the mode of the restored directory', async () => {
    const target = join(root, 'private-copy')
    const p = await plan(target, {}, '/private')
    await indexed.restore(p)
    expect((await stat(target)).mode & 0o7777).toBe(0o700)
    expect(await readdir(target)).toEqual(['secret'])
  })
})
