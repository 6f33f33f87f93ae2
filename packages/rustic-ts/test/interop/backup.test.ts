import { spawn } from 'node:child_process'
import { mkdir, rm, symlink, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resticInit, rusticInit } from '../helpers/cheapKey.js'
import { mkdata } from '../helpers/mkdata.js'
import { CLI, PASSWORD, restic, rusticOk, tempDir } from '../helpers/restic.js'
import { treeFacts } from '../helpers/treeCompare.js'

interface Summary {
  files_new: number
  files_changed: number
  files_unmodified: number
  dirs_new: number
  dirs_changed: number
  dirs_unmodified: number
  data_added: number
  total_files_processed: number
  total_bytes_processed: number
  snapshot_id: string
}

const lastJsonLine = (b: Buffer): Summary => JSON.parse(b.toString().trim().split('\n').pop()!) as Summary

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string

beforeAll(async () => {
  tmp = await tempDir()
  src = join(tmp.path, 'src')
  await mkdata(src, ['--scale', '0.05'])
  await mkdir(join(src, 'extra', 'empty-dir'), { recursive: true })
  await writeFile(join(src, 'extra', 'empty-file'), '')
  await writeFile(join(src, 'extra', 'setuid'), 'x')
  await chmod(join(src, 'extra', 'setuid'), 0o4755)
  await writeFile(join(src, 'extra', 'private'), 'secret-ish')
  await chmod(join(src, 'extra', 'private'), 0o600)
  await symlink('../src/d00', join(src, 'extra', 'link-dir'))
  await symlink('empty-file', join(src, 'extra', 'link-file'))
  await writeFile(join(src, 'extra', 'ünï 日本 "q" \\ x'), 'odd name')
}, 300_000)
afterAll(async () => tmp?.remove())

describe('backup by rustic-ts, checked and restored by restic', () => {
  for (const version of [2, 1]) {
    it(`v${version}: restic check --read-data passes and restic restore gives identical files`, async () => {
      const repo = join(tmp.path, `repo-v${version}`)
      await rusticInit(repo, ['--repository-version', String(version)])
      const summary = lastJsonLine(await rusticOk(['-r', repo, '--no-cache', 'backup', '--json', '--tag', 'a,b', src]))
      expect(summary.files_new).toBeGreaterThan(600)
      await restic(repo, ['check', '--read-data'])
      const target = join(tmp.path, `restore-v${version}`)
      await restic(repo, ['restore', summary.snapshot_id, '--target', target])
      const want = await treeFacts(src, { dirMtimes: false })
      const got = await treeFacts(join(target, src), { dirMtimes: false })
      expect(got.size).toBe(want.size)
      for (const [path, facts] of want) expect(got.get(path), path).toEqual(facts)
      const snaps = JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Array<{ tags: string[]; paths: string[] }>
      expect(snaps[0]!.tags).toEqual(['a', 'b'])
      expect(snaps[0]!.paths).toEqual([src])
      await rm(target, { recursive: true, force: true })
    })
  }
})

describe('chunker compatibility with restic', () => {
  it('rustic-ts after restic adds < 1% new data, and restic after rustic-ts too', async () => {
    const repoA = join(tmp.path, 'compat-a')
    await resticInit(repoA)
    await restic(repoA, ['backup', src])
    const ours = lastJsonLine(await rusticOk(['-r', repoA, '--no-cache', 'backup', '--json', '--force', src]))
    expect(ours.data_added).toBeLessThan(0.01 * ours.total_bytes_processed)
    await restic(repoA, ['check'])

    const repoB = join(tmp.path, 'compat-b')
    await rusticInit(repoB)
    await rusticOk(['-r', repoB, '--no-cache', 'backup', src])
    const theirs = lastJsonLine(await restic(repoB, ['backup', '--json', '--force', src]))
    expect(theirs.data_added).toBeLessThan(0.01 * theirs.total_bytes_processed)
    await restic(repoB, ['check'])
  })
})

describe('incremental backup', () => {
  it('after mkdata --mutate, the counts equal restic’s and only about the changed bytes are added', async () => {
    const data = join(tmp.path, 'mutating')
    await mkdata(data, ['--scale', '0.02'])
    const repoR = join(tmp.path, 'inc-restic')
    const repoT = join(tmp.path, 'inc-rustic')
    await resticInit(repoR)
    await rusticInit(repoT)
    await restic(repoR, ['backup', '--json', data])
    await rusticOk(['-r', repoT, '--no-cache', 'backup', '--json', data])
    await mkdata(data, ['--mutate'])
    const theirs = lastJsonLine(await restic(repoR, ['backup', '--json', data]))
    const ours = lastJsonLine(await rusticOk(['-r', repoT, '--no-cache', 'backup', '--json', data]))
    const counts = (s: Summary) => [s.files_new, s.files_changed, s.files_unmodified, s.dirs_new, s.dirs_changed, s.dirs_unmodified]
    expect(counts(ours)).toEqual(counts(theirs))
    expect(ours.total_files_processed).toBe(theirs.total_files_processed)
    // The two repositories have different random chunker polynomials, so the chunks around the bytes
    // appended to big/app.log are cut elsewhere: the additions may differ by up to one maximal chunk (8 MiB).
    expect(Math.abs(ours.data_added - theirs.data_added), JSON.stringify({ ours, theirs })).toBeLessThan(0.1 * theirs.data_added + 8 * 1024 * 1024)
    await restic(repoT, ['check', '--read-data'])
  })
})

describe('an interrupted backup', () => {
  it('killed with SIGKILL leaves a repository restic check accepts, and the next backup uploads less', async () => {
    const repo = join(tmp.path, 'killed')
    await rusticInit(repo)
    // Kill once the first packs are stored (watch data/ grow), well before the end.
    const child = spawn(CLI, ['-r', repo, '--no-cache', 'backup', '--json', src], {
      env: { ...process.env, RUSTIC_PASSWORD: PASSWORD },
      stdio: 'ignore',
    })
    const { readdir, stat } = await import('node:fs/promises')
    const packBytes = async (): Promise<number> => {
      let total = 0
      for (const d of await readdir(join(repo, 'data'))) {
        for (const f of await readdir(join(repo, 'data', d))) total += (await stat(join(repo, 'data', d, f)).catch(() => ({ size: 0 }))).size
      }
      return total
    }
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
    for (let i = 0; i < 600; i++) {
      if ((await packBytes()) > 40 * 1024 * 1024) break
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGKILL')
    await exited
    const before = await packBytes()
    expect(before).toBeGreaterThan(0)
    // like a killed restic, it leaves its lock behind: stale (its process is gone), removed by unlock
    expect(await readdir(join(repo, 'locks'))).toHaveLength(1)
    expect((await rusticOk(['-r', repo, '--no-cache', 'unlock'])).toString()).toBe('removed 1 lock(s)\n')
    await restic(repo, ['check'])
    const { readdir: rd } = await import('node:fs/promises')
    expect((await rd(join(repo, 'snapshots'))).length).toBe(0)
    const summary = lastJsonLine(await rusticOk(['-r', repo, '--no-cache', 'backup', '--json', src]))
    expect(summary.data_added).toBeLessThan(summary.total_bytes_processed - 30 * 1024 * 1024)
    await restic(repo, ['check', '--read-data'])
  })
})

describe('backup from stdin', () => {
  it('stores stdin as one file that dump and restic return unchanged', async () => {
    const repo = join(tmp.path, 'stdin')
    await rusticInit(repo)
    const { randomBytes } = await import('node:crypto')
    const data = randomBytes(3 * 1024 * 1024 + 17)
    const { rustic } = await import('../helpers/restic.js')
    const r = await rustic(['-r', repo, '--no-cache', 'backup', '--json', '--stdin', '--stdin-filename', 'db.sql'], {}, data)
    expect(r.code, r.stderr).toBe(0)
    const out = await rusticOk(['-r', repo, '--no-cache', 'dump', 'latest:/db.sql'])
    expect(Buffer.compare(out, data)).toBe(0)
    expect(Buffer.compare(await restic(repo, ['dump', 'latest', '/db.sql']), data)).toBe(0)
    const snaps = JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Array<{ paths: string[] }>
    expect(snaps[0]!.paths).toEqual(['/db.sql'])
    await restic(repo, ['check', '--read-data'])
  })
})
