import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, link, lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from 'rustic-ts'
import { craftedRepo } from '../../../core/test/commands/crafted.js'
import { resticInit, rusticInit } from '../helpers/cheapKey.js'
import { makeDataset } from '../helpers/dataset.js'
import { CLI, PASSWORD, restic, rustic, rusticOk, tempDir } from '../helpers/restic.js'

const run = promisify(execFile)
const MKDATA = '/work/shared/bench/mkdata.py'
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

interface Info {
  type: string
  mode: number
  mtimeUs: bigint
  size?: number
  sha?: string
  target?: string
  ino?: bigint
}

/** Every entry below `root`: type, permission bits, mtime (µs), content hash, symlink target; plus hard-link groups. */
async function walkTree(root: string): Promise<{ entries: Map<string, Info>; groups: string[][] }> {
  const entries = new Map<string, Info>()
  const byIno = new Map<bigint, string[]>()
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name)
      const rel = relative(root, p)
      const st = await lstat(p, { bigint: true })
      const info: Info = {
        type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : 'other',
        mode: st.isSymbolicLink() ? 0 : Number(st.mode) & 0o7777,
        mtimeUs: st.mtimeNs / 1000n,
      }
      if (info.type === 'symlink') info.target = await readlink(p)
      if (info.type === 'file') {
        info.size = Number(st.size)
        info.sha = createHash('sha256').update(await readFile(p)).digest('hex')
        if (st.nlink > 1n) byIno.set(st.ino, [...(byIno.get(st.ino) ?? []), rel])
      }
      entries.set(rel, info)
      if (info.type === 'dir') await walk(p)
    }
  }
  await walk(root)
  return { entries, groups: [...byIno.values()].map((g) => g.sort()).sort((a, b) => a[0]!.localeCompare(b[0]!)) }
}

/** Inode and mtime of every file (what must not change for files a restore leaves alone). */
async function inodes(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      const st = await lstat(p, { bigint: true })
      if (e.isDirectory()) await walk(p)
      else out.set(relative(root, p), `${st.ino}:${st.mtimeNs}`)
    }
  }
  await walk(root)
  return out
}

async function makeData(root: string): Promise<void> {
  await makeDataset(root, { bigFileMiB: 3 })
  await link(join(root, 'a', 'hello.txt'), join(root, 'hello-hardlink'))
  await link(join(root, 'a', 'hello.txt'), join(root, 'a', 'b', 'hello-hardlink-2'))
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\n')
  await chmod(join(root, 'run.sh'), 0o750)
  await mkdir(join(root, 'locked'), { mode: 0o700 })
  await writeFile(join(root, 'locked', 'secret'), 'x', { mode: 0o600 })
  await run('mkfifo', [join(root, 'fifo')])
  await run('touch', ['-d', '2021-02-03 04:05:06.123456789', join(root, 'log.txt')])
}

describe.each(['restic v1', 'restic v2', 'rustic-ts'] as const)('rustic-ts restore of a %s repository', (kind) => {
  it('matches restic restore of the same snapshot: bytes, modes, mtimes, symlinks, hard links', async () => {
    const tmp = await tempDir()
    cleanups.push(tmp.remove)
    const data = join(tmp.path, 'data')
    await makeData(data)
    const repo = join(tmp.path, 'repo')
    if (kind === 'rustic-ts') {
      await rusticInit(repo)
      await run(CLI, ['-r', repo, '--no-cache', 'backup', 'data'], {
        cwd: tmp.path,
        env: { ...process.env, RUSTIC_PASSWORD: PASSWORD },
      })
    } else {
      await resticInit(repo, ['--repository-version', kind === 'restic v1' ? '1' : '2'])
      await run('restic', ['-r', repo, '--no-cache', 'backup', 'data'], { cwd: tmp.path, env: { ...process.env, RESTIC_PASSWORD: PASSWORD } })
    }
    await restic(repo, ['restore', 'latest', '--target', join(tmp.path, 'by-restic')])
    const out = await rusticOk(['-r', repo, '--no-cache', '--json', 'restore', 'latest', '--target', join(tmp.path, 'by-rustic')])
    const summary = JSON.parse(out.toString()) as { message_type: string; files_restored: number; warnings: number }
    expect(summary.message_type).toBe('summary')
    expect(summary.files_restored).toBeGreaterThan(10)
    expect(summary.warnings).toBe(0)
    const a = await walkTree(join(tmp.path, 'by-restic'))
    const b = await walkTree(join(tmp.path, 'by-rustic'))
    expect(a.groups).toEqual([['data/a/b/hello-hardlink-2', 'data/a/hello.txt', 'data/hello-hardlink']])
    expect(b.groups).toEqual(a.groups)
    expect(b.entries).toEqual(a.entries)
  })
})

describe('in-place restore of the mkdata set', () => {
  let tmp: { path: string; remove: () => Promise<void> }
  let repo: string
  let data: string

  beforeAll(async () => {
    tmp = await tempDir()
    cleanups.push(tmp.remove)
    data = join(tmp.path, 'data')
    await run('python3', [MKDATA, data, '--scale', '0.02'])
    repo = join(tmp.path, 'repo')
    await resticInit(repo, ['--repository-version', '2'])
    await run('restic', ['-r', repo, '--no-cache', 'backup', 'data'], { cwd: tmp.path, env: { ...process.env, RESTIC_PASSWORD: PASSWORD } })
  })

  it('rewrites only the mutated files, keeps the others untouched, --delete removes the added ones', async () => {
    const target = join(tmp.path, 'target')
    await rusticOk(['-r', repo, '--no-cache', 'restore', 'latest:/data', '--target', target])
    const original = await walkTree(data)
    expect((await walkTree(target)).entries).toEqual(original.entries)

    await run('python3', [MKDATA, target, '--mutate'])
    const mutated = await walkTree(target)
    const changedOrGone = [...original.entries].filter(([p, i]) => i.type === 'file' && mutated.entries.get(p)?.sha !== i.sha).map(([p]) => p)
    const gone = changedOrGone.filter((p) => !mutated.entries.has(p))
    const changed = changedOrGone.filter((p) => mutated.entries.has(p))
    const added = [...mutated.entries.keys()].filter((p) => !original.entries.has(p))
    expect(gone.length).toBeGreaterThan(0)
    expect(changed.length).toBeGreaterThan(5)
    expect(added.length).toBe(201) // new/ and its 200 files
    const before = await inodes(target)

    // the plan (dry run) counts exactly the files to rewrite
    const planOut = await rusticOk(['-r', repo, '--no-cache', '--json', 'restore', 'latest:/data', '--target', target, '--dry-run'])
    const plan = JSON.parse(planOut.toString()) as {
      stats: { files: Record<string, number>; additional_kept: number }
      entries: Array<{ path: string; action: string }>
    }
    expect(plan.stats.files['create']).toBe(gone.length)
    expect(plan.stats.files['modify']).toBe(changed.length)
    expect(plan.stats.additional_kept).toBe(1)
    const planned = plan.entries.filter((e) => e.action === 'create' || e.action === 'modify').map((e) => e.path.slice(1))
    expect(planned.sort()).toEqual([...changedOrGone].sort())
    expect(await inodes(target)).toEqual(before) // the dry run touched nothing

    await rusticOk(['-r', repo, '--no-cache', 'restore', 'latest:/data', '--target', target])
    const after = await inodes(target)
    const touched = [...before.keys()].filter((p) => after.get(p) !== before.get(p)).sort()
    expect(touched).toEqual([...changed].sort())
    const restored = await walkTree(target)
    for (const p of added) restored.entries.delete(p)
    expect(restored.entries).toEqual(original.entries)

    await rusticOk(['-r', repo, '--no-cache', 'restore', 'latest:/data', '--target', target, '--delete'])
    expect((await walkTree(target)).entries).toEqual(original.entries)
    // and once more: nothing left to do
    const again = JSON.parse(
      (await rusticOk(['-r', repo, '--no-cache', '--json', 'restore', 'latest:/data', '--target', target, '--delete', '--dry-run'])).toString(),
    ) as { stats: { files: Record<string, number>; bytes_to_read: number }; removals: unknown[] }
    expect(again.stats.files['create'] + again.stats.files['modify']!).toBe(0)
    expect(again.stats.bytes_to_read).toBe(0)
    expect(again.removals).toEqual([])
  })
})

describe('restore of a crafted tree', () => {
  it('fails on an entry named ../escape without writing outside the target', async () => {
    const tmp = await tempDir()
    cleanups.push(tmp.remove)
    const repoDir = join(tmp.path, 'repo')
    await craftedRepo('../escape', new LocalBackend(repoDir), PASSWORD)

    const outside = join(tmp.path, 'out')
    await mkdir(outside)
    const target = join(outside, 'target')
    const r = await rustic(['-r', repoDir, '--no-cache', 'restore', 'latest', '--target', target])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/unsafe name "\.\.\/escape"/)
    expect(await readdir(outside)).toEqual([])
    expect(await readdir(tmp.path)).toEqual(['out', 'repo'])
  })
})
