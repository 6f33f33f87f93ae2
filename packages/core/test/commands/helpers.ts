import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository, type IndexedRepository, type RestoreOptions } from '@rustic-ts/core/internal'

const run = promisify(execFile)

/** Password of every test repository. */
export const password = 'restore-test-pw'

/** Whether the tests run as root (ownership and device nodes). */
export const asRoot = process.getuid?.() === 0

/** A fresh temporary directory and its remover. */
export async function tempDir(prefix = 'rustic-restore-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Runs restic on a repository with the test password. */
export async function restic(repo: string, args: string[], cwd?: string): Promise<string> {
  const { stdout } = await run('restic', ['-r', repo, '--no-cache', ...args], {
    env: { ...process.env, RESTIC_PASSWORD: password },
    cwd,
    maxBuffer: 64 << 20,
  })
  return stdout
}

/**
 * Creates a restic repository (format `version`) and backs up `name` (relative to `cwd`); returns the snapshot id.
 * With `cheapKey`, restic's key (calibrated to take half a second or more to open) is replaced right after
 * `init` by one with cheap scrypt parameters, so that every later open is fast: for tests not about keys.
 */
export async function resticRepoWith(repo: string, cwd: string, name: string, version: 1 | 2, options: { cheapKey?: boolean } = {}): Promise<string> {
  await restic(repo, ['init', '--repository-version', String(version)])
  if (options.cheapKey) await useCheapKey(repo)
  return resticBackup(repo, cwd, name)
}

/**
 * Replaces the keys of a local repository by one for the same password (the test password unless given)
 * with scrypt N = 1024: restic calibrates its own to take about half a second at every open.
 */
export async function useCheapKey(repo: string, pw = password): Promise<void> {
  const backend = new LocalBackend(repo)
  const r = await Repository.open({ noCache: true }, { repository: backend }, { password: pw })
  try {
    const old = await backend.list('key')
    await r.addKey(pw, { kdf: { N: 1024, r: 8, p: 1 } })
    for (const id of old) await backend.remove('key', id, false)
  } finally {
    await r.close()
  }
}

/** `restic backup` of `name` (relative to `cwd`); returns the snapshot id. */
export async function resticBackup(repo: string, cwd: string, name: string): Promise<string> {
  const out = await restic(repo, ['backup', '--json', name], cwd)
  const summary = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { message_type: string; snapshot_id?: string })
    .find((m) => m.message_type === 'summary')
  return summary!.snapshot_id!
}

/** Opens a local repository and loads its index. */
export async function openIndexed(repo: string): Promise<IndexedRepository> {
  const r = await Repository.open({}, { repository: new LocalBackend(repo) }, { password })
  return r.toIndexed()
}

async function touch(path: string, when: string): Promise<void> {
  await run('touch', ['-h', '-d', when, path])
}

/**
 * A small tree with the corners restore must get right: nested and empty directories, empty, multi-chunk,
 * all-zero and tiny files, modes (setuid, 0700 dir, 0600 file), symlinks (relative, dangling, absolute),
 * hard-link groups across directories, a fifo, a non-UTF-8 name, a device node as root, and
 * nanosecond mtimes.
 */
export async function makeTree(root: string): Promise<void> {
  await mkdir(join(root, 'a', 'b', 'c'), { recursive: true })
  await mkdir(join(root, 'empty-dir'))
  await mkdir(join(root, 'private'), { mode: 0o700 })
  await mkdir(join(root, 'links'))
  await writeFile(join(root, 'a', 'hello.txt'), 'hello world\n')
  await writeFile(join(root, 'a', 'b', 'empty'), '')
  await writeFile(join(root, 'a', 'b', 'c', 'deep.txt'), 'deep '.repeat(3000))
  await writeFile(join(root, 'big.bin'), randomBytes(5 * 1024 * 1024 + 12345))
  await writeFile(join(root, 'zeros.bin'), Buffer.alloc(3 * 1024 * 1024))
  await writeFile(join(root, 'private', 'secret'), 'secret\n', { mode: 0o600 })
  await writeFile(join(root, 'setuid-tool'), '#!/bin/sh\n', { mode: 0o4755 })
  await run('chmod', ['4755', join(root, 'setuid-tool')])
  await writeFile(join(root, 'links', 'orig'), randomBytes(2000))
  await link(join(root, 'links', 'orig'), join(root, 'links', 'hard1'))
  await link(join(root, 'links', 'orig'), join(root, 'a', 'hard2'))
  await writeFile(join(root, 'links', 'pair-a'), 'pair\n')
  await link(join(root, 'links', 'pair-a'), join(root, 'links', 'pair-b'))
  await symlink('a/hello.txt', join(root, 'link-to-hello'))
  await symlink('does/not/exist', join(root, 'dangling'))
  await symlink('/etc/hostname', join(root, 'absolute-link'))
  await run('mkfifo', [join(root, 'fifo')])
  await writeFile(Buffer.from([...Buffer.from(root + '/latin1-'), 0xe9, 0x2e, 0x74, 0x78, 0x74]), 'latin-1 name\n')
  if (asRoot) await run('mknod', [join(root, 'null-dev'), 'c', '1', '3'])
  // nanosecond times on a few entries (restic keeps them)
  await touch(join(root, 'a', 'hello.txt'), '2021-03-04 05:06:07.123456789')
  await touch(join(root, 'link-to-hello'), '2020-01-02 03:04:05.987654321')
  await touch(join(root, 'a', 'b'), '2019-05-06 07:08:09.5')
}

/** What the tree walker records of one entry. */
export interface EntryInfo {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev' | 'socket'
  mode: number
  /** mtime in whole microseconds (what Node can set). */
  mtimeUs: bigint
  uid: number
  gid: number
  size?: number
  sha256?: string
  target?: string
  rdev?: bigint
}

/** Every entry below `root` (relative path with raw bytes as latin1 escapes -> info), plus hard-link groups. */
export async function walkTree(root: string): Promise<{ entries: Map<string, EntryInfo>; linkGroups: string[][] }> {
  const entries = new Map<string, EntryInfo>()
  const byIno = new Map<bigint, string[]>()
  const walk = async (dir: Buffer, rel: string): Promise<void> => {
    const names = (await readdir(dir, { encoding: 'buffer' })).sort(Buffer.compare)
    for (const name of names) {
      const p = Buffer.concat([dir, Buffer.from('/'), name])
      const r = `${rel}/${Buffer.from(name.toString('utf8')).equals(name) ? name.toString('utf8') : 'hex:' + name.toString('hex')}`
      const st = await lstat(p, { bigint: true })
      const info: EntryInfo = {
        type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'chardev' : st.isBlockDevice() ? 'blockdev' : 'socket',
        mode: Number(st.mode) & 0o7777,
        mtimeUs: st.mtimeNs / 1000n,
        uid: Number(st.uid),
        gid: Number(st.gid),
      }
      if (info.type === 'symlink') {
        info.mode = 0
        info.target = (await readlink(p, { encoding: 'buffer' })).toString('hex')
      }
      if (info.type === 'file') {
        info.size = Number(st.size)
        info.sha256 = createHash('sha256').update(await readFile(p)).digest('hex')
        if (st.nlink > 1n) {
          const g = byIno.get(st.ino) ?? []
          g.push(r)
          byIno.set(st.ino, g)
        }
      }
      if (info.type === 'chardev' || info.type === 'blockdev') info.rdev = st.rdev
      entries.set(r, info)
      if (info.type === 'dir') await walk(p, r)
    }
  }
  await walk(Buffer.from(root), '')
  const linkGroups = [...byIno.values()].map((g) => g.sort()).sort((a, b) => a[0]!.localeCompare(b[0]!))
  return { entries, linkGroups }
}

/** Inode, mtime and ctime of every entry (to check that nothing was touched); raw names as hex. */
export async function inodeTimes(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: Buffer, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true, encoding: 'buffer' })) {
      const p = Buffer.concat([dir, Buffer.from('/'), e.name])
      const name = Buffer.from(e.name.toString('utf8')).equals(e.name) ? e.name.toString('utf8') : 'hex:' + e.name.toString('hex')
      const st = await lstat(p, { bigint: true })
      out.set(`${rel}/${name}`, `${st.ino}:${st.mtimeNs}:${st.ctimeNs}`)
      if (e.isDirectory()) await walk(p, `${rel}/${name}`)
    }
  }
  await walk(Buffer.from(root), '')
  return out
}

/** Plans and runs a restore of `spec` (`SNAP[:PATH]`) into `target`; returns the plan, the stats and the warnings given. */
export async function restoreTo(indexed: IndexedRepository, spec: string, target: string, options: RestoreOptions = {}) {
  const { node } = await indexed.resolveSnapshotPath(spec)
  const plan = await indexed.planRestore(node, target, options)
  const warnings: string[] = []
  const stats = await indexed.restore(plan, { onWarning: (w) => warnings.push(w) })
  return { plan, stats, warnings }
}
