import { execFileSync } from 'node:child_process'
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository } from '@rustic-ts/core'
import { CLI, PASSWORD, run as runProgram, rustic, tempDir } from '../helpers/restic.js'
import { CHEAP_KDF } from '../helpers/resticSnapshots.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
let src: string

/** The repository's files other than the config and keys (what a command wrote). */
async function written(): Promise<string[]> {
  const out: string[] = []
  for (const dir of ['snapshots', 'index', 'locks']) for (const f of await readdir(join(repo, dir))) out.push(`${dir}/${f}`)
  for (const sub of await readdir(join(repo, 'data'))) for (const f of await readdir(join(repo, 'data', sub))) out.push(`data/${sub}/${f}`)
  return out
}

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-badinput-')
  repo = join(tmp.path, 'repo')
  src = join(tmp.path, 'src')
  await mkdir(src)
  await writeFile(join(src, 'a.txt'), 'hello\n')
  const r = await Repository.init({}, { repository: new LocalBackend(repo) }, { password: PASSWORD }, { kdf: CHEAP_KDF })
  await (await r.toIndexed()).backup(src)
  await r.close()
}, 60_000)
afterAll(async () => tmp?.remove())

const cli = (args: string[]) => rustic(['-r', repo, '--no-cache', '--no-progress', ...args])

describe('bad input on the command line: one line naming the problem, exit 1, nothing written', () => {
  it.each([
    [['backup', '--compression', '1.5', 'SRC'], 'rustic-ts: error: invalid --compression "1.5": use off, auto, max or a zstd level from -131072 to 22'],
    [['backup', '--compression', '', 'SRC'], 'rustic-ts: error: invalid --compression "": use off, auto, max or a zstd level from -131072 to 22'],
    [['backup', '--exclude-larger-than', '99999999999999999999999T', 'SRC'], 'rustic-ts: error: invalid --exclude-larger-than "99999999999999999999999T": more than 9007199254740991 bytes'],
    [['backup', '--delete-after', '99999999999999d', 'SRC'], 'rustic-ts: error: invalid backup options: deleteAfter: "99999999999999d" is after the year 9999'],
    [['backup', '--host', '', 'SRC'], 'rustic-ts: error: invalid backup options: host: must not be empty'],
    [['backup', '--exclude', '[', 'SRC'], 'rustic-ts: error: invalid exclude pattern "[": unterminated ['],
    [['backup', '/does/not/exist', '/nor/this'], 'rustic-ts: error: all backup paths do not exist: /does/not/exist, /nor/this'],
    [['restore', 'latest', '--target', '', '--delete'], 'rustic-ts: error: no restore target given: name the directory to restore into'],
    [['restore', 'latest', '--target', 'OUT', '--include', '['], 'rustic-ts: error: invalid restore options: include[0]: invalid include pattern "[": unterminated ['],
    [['restore', 'latest', '--target', '/', '--delete', '--dry-run'], 'rustic-ts: error: refusing to restore with delete into /: it would remove everything the snapshot does not have'],
    [['restore', 'latest', '--target', 'TMP', '--delete'], 'rustic-ts: error: refusing to restore with delete into TMP: it holds the repository REPO'],
    [['restore', 'latest', '--target', 'SRC/a.txt/sub'], 'rustic-ts: error: cannot stat SRC/a.txt/sub: ENOTDIR: not a directory'],
  ])('%j', async (args, message) => {
    const before = await written()
    const fill = (s: string): string => s.replaceAll('SRC', src).replaceAll('OUT', join(tmp.path, 'out')).replaceAll('TMP', tmp.path).replaceAll('REPO', repo)
    const r = await cli(args.map(fill))
    expect(r.stderr).toBe(fill(message) + '\n')
    expect(r.code).toBe(1)
    expect(await written()).toEqual(before)
  })

  it('a missing backup path next to existing ones is skipped with a warning naming it whole (exit 3)', async () => {
    const missing = join(tmp.path, 'does', 'not', 'exist')
    const r = await cli(['backup', src, missing])
    expect(r.stderr).toBe(`warning: ${missing} does not exist, skipping\n`)
    expect(r.code).toBe(3)
    const snaps = JSON.parse((await cli(['snapshots', '--json'])).stdout.toString()) as Array<{ paths: string[] }>
    expect(snaps.map((s) => s.paths)).toEqual([[src], [src]])
  })
})

describe('a repository location that is a file', () => {
  it('is named as a file, not as a repository without a config', async () => {
    const file = join(tmp.path, 'not-a-repo.txt')
    await writeFile(file, 'hello\n')
    const r = await rustic(['-r', file, '--no-cache', 'snapshots'])
    expect(r.stderr).toBe(`rustic-ts: error: no repository at local:${file}: it is a file (or below one), not a directory\n`)
    expect(r.code).toBe(1)
    const missing = await rustic(['-r', join(tmp.path, 'nothing-here'), '--no-cache', 'snapshots'])
    expect(missing.stderr).toBe(`rustic-ts: error: no repository at local:${join(tmp.path, 'nothing-here')}: the config file is missing\n`)
  })
})

/** True if this machine lets the test run `args` (namespaces, changing user). */
function canRun(args: string[]): boolean {
  try {
    execFileSync(args[0]!, args.slice(1), { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('init where the repository cannot be made names the reason', () => {
  // a read-only mount in a mount namespace of its own (needs unshare: root or user namespaces)
  it.skipIf(!canRun(['unshare', '-rm', 'true']))('EROFS: a read-only file system', async () => {
    const ro = join(tmp.path, 'ro')
    await mkdir(ro)
    const script = `mount -t tmpfs -o ro tmpfs "$1" && exec "$2" -r "$1/sub/repo" --no-cache init`
    const r = await run(['unshare', '-rm', 'sh', '-c', script, 'sh', ro, CLI])
    expect(r.stderr).toBe(`rustic-ts: error: cannot create directory ${ro}/sub/repo: EROFS (read-only file system)\n`)
    expect(r.code).toBe(1)
  })

  it.skipIf(process.getuid?.() !== 0 || !canRun(['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', 'true']))(
    'EACCES: a directory the user may not write to',
    async () => {
      const closed = join(tmp.path, 'closed')
      await mkdir(closed, { mode: 0o755 })
      await chmod(tmp.path, 0o711) // the user may pass through, not write
      const r = await run(['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', CLI, '-r', join(closed, 'repo'), '--no-cache', 'init'])
      expect(r.stderr).toBe(`rustic-ts: error: cannot create directory ${closed}/repo: EACCES (permission denied)\n`)
      expect(r.code).toBe(1)
    },
  )
})

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await runProgram(args[0]!, args.slice(1), { RUSTIC_PASSWORD: PASSWORD, HOME: tmp.path })
  return { code: r.code, stderr: r.stderr }
}
