import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository } from '@rustic-ts/core'
import { PASSWORD, restic, rustic, rusticOk, tempDir } from '../helpers/restic.js'
import { CHEAP_KDF } from '../helpers/resticSnapshots.js'

/** The flags and habits restic users bring to the CLI (issue: docs, examples and CLI habits). */

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
let data: string

/** The environment of a run with none of the password and repository variables set. */
const NO_ENV = {
  RUSTIC_PASSWORD: undefined,
  RUSTIC_PASSWORD_FILE: undefined,
  RUSTIC_PASSWORD_COMMAND: undefined,
  RUSTIC_REPOSITORY: undefined,
  RESTIC_PASSWORD: undefined,
  RESTIC_PASSWORD_FILE: undefined,
  RESTIC_PASSWORD_COMMAND: undefined,
  RESTIC_REPOSITORY: undefined,
  RUSTIC_FROM_PASSWORD: undefined,
  RESTIC_FROM_PASSWORD: undefined,
  RUSTIC_FROM_REPOSITORY: undefined,
  RESTIC_FROM_REPOSITORY: undefined,
}

interface Snap {
  id: string
  time: string
  hostname: string
  paths: string[]
  tags?: string[]
}
const snapshots = async (r: string): Promise<Snap[]> => JSON.parse((await rusticOk(['-r', r, '--no-cache', 'snapshots', '--json'])).toString()) as Snap[]

async function newRepo(name: string): Promise<string> {
  const path = join(tmp.path, name)
  const r = await Repository.init({}, { repository: new LocalBackend(path) }, { password: PASSWORD }, { kdf: CHEAP_KDF })
  await r.close()
  return path
}

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-habits-')
  data = join(tmp.path, 'data')
  await mkdir(join(data, 'sub', 'cache'), { recursive: true })
  await writeFile(join(data, 'a.txt'), 'a\n')
  await writeFile(join(data, 'sub', 'b.txt'), 'b\n')
  await writeFile(join(data, 'sub', 'cache', 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n')
  await writeFile(join(data, 'sub', 'cache', 'big.bin'), 'cached\n')
  repo = await newRepo('repo')
}, 120_000)
afterAll(async () => tmp?.remove())

describe('restic habits on the command line', () => {
  it('-V/--version prints the version; commander errors carry the rustic-ts: prefix and exit 1', async () => {
    for (const flag of ['-V', '--version']) {
      const r = await rustic([flag])
      expect(r.code).toBe(0)
      expect(r.stdout.toString()).toMatch(/^rustic-ts \d+\.\d+\.\d+ \(node v\d+/)
    }
    const unknown = await rustic(['--bogus'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toBe("rustic-ts: error: unknown option '--bogus'\n")
    const missing = await rustic(['-r', repo, 'restore', 'latest'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^rustic-ts: error: required option '-t, --target <dir>' not specified\n$/)
  })

  it('RESTIC_REPOSITORY and RESTIC_PASSWORD(_FILE, _COMMAND) work after the RUSTIC_ ones; -p reads a password file', async () => {
    const pwFile = join(tmp.path, 'pw')
    await writeFile(pwFile, `${PASSWORD}\n`)
    const list = ['--no-cache', 'snapshots', '--json']
    expect((await rustic(list, { ...NO_ENV, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: PASSWORD })).code).toBe(0)
    expect((await rustic(list, { ...NO_ENV, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD_FILE: pwFile })).code).toBe(0)
    expect((await rustic(list, { ...NO_ENV, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD_COMMAND: `cat ${pwFile}` })).code).toBe(0)
    expect((await rustic(['-r', repo, '-p', pwFile, ...list], NO_ENV)).code).toBe(0)
    // RUSTIC_ first: a wrong RESTIC_PASSWORD is not used when RUSTIC_PASSWORD is set
    expect((await rustic(list, { ...NO_ENV, RUSTIC_REPOSITORY: repo, RUSTIC_PASSWORD: PASSWORD, RESTIC_PASSWORD: 'wrong', RESTIC_REPOSITORY: '/nowhere' })).code).toBe(0)
    const wrong = await rustic(list, { ...NO_ENV, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: 'wrong' })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/^rustic-ts: error: .*password/)
    // no terminal, no password: one line naming both variables
    const none = await rustic(['-r', repo, ...list], NO_ENV)
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/no password given: .*RUSTIC_PASSWORD .*RESTIC_PASSWORD/)
  })

  it('-o/--option takes backend options for every backend (restic prefixes too); --opendal stays; unknown ones name the repository', async () => {
    expect((await rustic(['-r', repo, '--no-cache', '-o', 'layout=default', 'snapshots'])).code).toBe(0)
    expect((await rustic(['-r', repo, '--no-cache', '-o', 'local.layout=default', 'snapshots'])).code).toBe(0)
    expect((await rustic(['-r', repo, '--no-cache', '--option', 'retries=2', '--opendal', 'layout=auto', 'snapshots'])).code).toBe(0)
    const bad = await rustic(['-r', repo, '--no-cache', '-o', 'foo=1', 'snapshots'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`unknown backend option "foo" for local:${repo}:`)
    const badValue = await rustic(['-r', repo, '--no-cache', '-o', 'local.layout=sideways', 'snapshots'])
    expect(badValue.stderr).toMatch(/invalid layout "sideways"/)
  })

  it('backup: -H, --time, --exclude-caches, --files-from; snapshots prints paths one per line; -q prints nothing; the summary says files: as restore does', async () => {
    const list = join(tmp.path, 'files.txt')
    await writeFile(list, `# what to back up\n${join(data, 'a.txt')}\n\n${join(data, 's*')}\n${join(data, 'nothing-*')}\n`)
    const r = await rustic(['-r', repo, '--no-cache', 'backup', '-H', 'box', '--time', '2024-05-01 12:00:00', '--exclude-caches', '--files-from', list, '--tag', 'habits'], { TZ: 'UTC' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`warning: pattern "${join(data, 'nothing-*')}" does not match any files, skipping`)
    const out = r.stdout.toString()
    // a.txt, sub/b.txt and the cache's tag file
    expect(out).toMatch(/^files: 3 new, 0 changed, 0 unmodified$/m)
    expect(out).toMatch(/^dirs: \d+ new/m)
    const snap = (await snapshots(repo)).find((s) => s.tags?.includes('habits'))!
    expect(snap.hostname).toBe('box')
    expect(snap.time).toMatch(/^2024-05-01T12:00:00(\.0+)?Z$/)
    expect(snap.paths.sort()).toEqual([join(data, 'a.txt'), join(data, 'sub')])
    // the snapshots table prints the paths one per line, as restic does
    const table = (await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--tag', 'habits'])).toString().split('\n')
    const row = table.findIndex((l) => l.startsWith(snap.id.slice(0, 8)))
    expect(table[row]).toContain(join(data, 'a.txt'))
    expect(table[row + 1]!.trim()).toBe(join(data, 'sub'))
    // the cache directory keeps its tag file only (restic's --exclude-caches)
    const ls = (await rusticOk(['-r', repo, '--no-cache', 'ls', snap.id])).toString()
    expect(ls).toContain(join(data, 'sub', 'cache', 'CACHEDIR.TAG'))
    expect(ls).not.toContain('big.bin')
    const quiet = await rustic(['-r', repo, '--no-cache', '-q', 'backup', '-f', data])
    expect(quiet.code, quiet.stderr).toBe(0)
    expect(quiet.stdout.toString()).toBe('')
    const restored = await rusticOk(['-r', repo, '--no-cache', 'restore', 'latest', '--target', join(tmp.path, 'restored-q')])
    expect(restored.toString()).toMatch(/^files: \d+ to create/m)
  })

  it('backup of a path that does not exist fails (exit 1) without a snapshot; with an existing path it backs that up, warns and exits 3', async () => {
    const r = await newRepo('missing')
    const gone = join(tmp.path, 'does-not-exist')
    const only = await rustic(['-r', r, '--no-cache', 'backup', gone])
    expect(only.code).toBe(1)
    expect(only.stderr).toMatch(/^rustic-ts: error: .*does-not-exist/m)
    expect(await snapshots(r)).toEqual([])

    const some = await rustic(['-r', r, '--no-cache', 'backup', data, gone])
    expect(some.code).toBe(3)
    expect(some.stderr).toContain(`warning: ${gone} does not exist, skipping`)
    const snaps = await snapshots(r)
    expect(snaps).toHaveLength(1)
    expect(snaps[0]!.paths).toEqual([data])
    const ls = (await rusticOk(['-r', r, '--no-cache', 'ls', 'latest'])).toString()
    expect(ls).toContain(join(data, 'a.txt'))
  })

  it('restore --overwrite never keeps every existing file; if-newer replaces only older ones; --verify reads the result back', async () => {
    const r = await newRepo('overwrite')
    const src = join(tmp.path, 'ow-src')
    await mkdir(src)
    const files = ['old.txt', 'new.txt', 'same.txt', 'missing.txt']
    for (const f of files) await writeFile(join(src, f), `snapshot ${f}\n`)
    const t0 = new Date('2024-01-01T00:00:00Z')
    for (const f of files) await utimes(join(src, f), t0, t0)
    await rusticOk(['-r', r, '--no-cache', 'backup', src])

    const target = join(tmp.path, 'ow-target')
    await mkdir(target)
    // older and changed, newer and changed, same time and changed
    await writeFile(join(target, 'old.txt'), 'local old\n')
    await utimes(join(target, 'old.txt'), new Date('2023-01-01T00:00:00Z'), new Date('2023-01-01T00:00:00Z'))
    await writeFile(join(target, 'new.txt'), 'local new\n')
    await utimes(join(target, 'new.txt'), new Date('2025-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z'))
    await writeFile(join(target, 'same.txt'), 'local same time\n')
    await utimes(join(target, 'same.txt'), t0, t0)
    const before = new Map<string, { text: string; mtime: number; mode: number }>()
    for (const f of ['old.txt', 'new.txt', 'same.txt']) {
      const st = await stat(join(target, f))
      before.set(f, { text: await readFile(join(target, f), 'utf8'), mtime: st.mtimeMs, mode: st.mode })
    }
    const unchangedSince = async (f: string): Promise<boolean> => {
      const st = await stat(join(target, f))
      const b = before.get(f)!
      return (await readFile(join(target, f), 'utf8')) === b.text && st.mtimeMs === b.mtime && st.mode === b.mode
    }

    const never = await rustic(['-r', r, '--no-cache', 'restore', `latest:${src}`, '--target', target, '--overwrite', 'never'])
    expect(never.code, never.stderr).toBe(0)
    for (const f of ['old.txt', 'new.txt', 'same.txt']) expect(await unchangedSince(f), f).toBe(true)
    expect(await readFile(join(target, 'missing.txt'), 'utf8')).toBe('snapshot missing.txt\n')
    expect(never.stdout.toString()).toMatch(/3 existing kept/)

    const newer = await rustic(['-r', r, '--no-cache', 'restore', `latest:${src}`, '--target', target, '--overwrite', 'if-newer', '--verify'])
    expect(newer.code, newer.stderr).toBe(0)
    expect(await readFile(join(target, 'old.txt'), 'utf8')).toBe('snapshot old.txt\n')
    expect(await unchangedSince('new.txt')).toBe(true)
    expect(await unchangedSince('same.txt')).toBe(true)
    // missing.txt, restored by the first run with the snapshot's mtime, is not older either: kept too
    expect(newer.stdout.toString()).toMatch(/3 existing kept/)
    expect(newer.stdout.toString()).toMatch(/^verified 1 of 1 files$/m)

    const always = await rustic(['-r', r, '--no-cache', 'restore', `latest:${src}`, '--target', target, '--overwrite', 'always', '--verify'])
    expect(always.code, always.stderr).toBe(0)
    for (const f of files) expect(await readFile(join(target, f), 'utf8')).toBe(`snapshot ${f}\n`)
    expect(always.stdout.toString()).toMatch(/^verified 4 of 4 files$/m)

    const bad = await rustic(['-r', r, '--no-cache', 'restore', 'latest', '--target', target, '--overwrite', 'sometimes'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toBe('rustic-ts: error: bad --overwrite "sometimes": use always, if-changed, if-newer, never\n')
    // what restic restored agrees with the snapshot
    await restic(r, ['check'])
  })

  it('copy: restic\'s --from-repo/--from-repository-file and RESTIC_FROM_* env, -o for both repositories, -n, -q; prune, merge and key add follow -q and the prompt rules', async () => {
    const source = await newRepo('copy-src')
    await rusticOk(['-r', source, '--no-cache', 'backup', join(data, 'a.txt')])
    const target = await newRepo('copy-dst')
    const env = { ...NO_ENV, RUSTIC_PASSWORD: PASSWORD }
    // restic's names for the source, from the environment
    const dry = await rustic(['-r', target, '--no-cache', 'copy', '-n'], { ...env, RESTIC_FROM_REPOSITORY: source, RESTIC_FROM_PASSWORD: PASSWORD })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout.toString()).toMatch(/^snapshot [0-9a-f]{8} of .*: would be copied$/m)
    expect(await snapshots(target)).toEqual([])
    // -o: a prefixed option goes to the repositories of that backend (both local here), another backend's is left out
    const repoFile = join(tmp.path, 'from-repo.txt')
    await writeFile(repoFile, `${source}\n`)
    const quiet = await rustic(
      ['-r', target, '--no-cache', '-q', '-o', 'local.layout=default', '-o', 's3.region=eu-west-1', 'copy', '--from-repository-file', repoFile],
      { ...env, RESTIC_FROM_PASSWORD: PASSWORD },
    )
    expect(quiet.code, quiet.stderr).toBe(0)
    expect(quiet.stdout.toString()).toBe('')
    expect(await snapshots(target)).toHaveLength(1)
    // a source option the source's backend does not know names the source
    const bad = await rustic(['-r', target, '--no-cache', '-o', 'local.foo=1', 'copy', '--from-repo', source], { ...env, RUSTIC_FROM_PASSWORD: PASSWORD })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain(`unknown backend option "foo" for local:${source}`)
    // no source password and no terminal: one line naming the flags
    const none = await rustic(['-r', target, '--no-cache', 'copy', '--from-repo', source], env)
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/^rustic-ts: error: no password for the source repository: use --from-password-file/)

    // -q: merge and prune print nothing
    await rusticOk(['-r', target, '--no-cache', 'backup', join(data, 'sub', 'b.txt')])
    for (const args of [['merge', '--delete'], ['prune', '--instant-delete']]) {
      const r = await rustic(['-r', target, '--no-cache', '-q', ...args], env)
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0)
      expect(r.stdout.toString(), args[0]).toBe('')
    }
    expect(await snapshots(target)).toHaveLength(1)
    // key add without --new-password-file and without a terminal: one line saying how to give it
    const key = await rustic(['-r', target, '--no-cache', 'key', 'add'], env)
    expect(key.code).toBe(1)
    expect(key.stderr).toMatch(/^rustic-ts: error: give the new password with --new-password-file FILE/)
  })
})
