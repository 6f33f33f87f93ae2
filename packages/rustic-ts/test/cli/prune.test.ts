/**
 * `rustic-ts prune` against the real restic 0.14: what a prune frees and keeps (restic check --read-data and
 * rustic-ts's own check --read-data, restic restore), restic's lock stopping it, two-phase deletion next to a backup that runs without
 * locks or while prune ignores them (two processes), an append-only REST server, the flags and --json.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { createRestServer } from '@rustic-ts/rest-server'
import { Repository, StreamSource, type Id } from '@rustic-ts/core'
import { CLI, PASSWORD, restic, rustic, tempDir } from '../helpers/restic.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let n = 0

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-cli-prune-')
})

afterAll(async () => {
  await tmp?.remove()
})

/** A new repository (cheap key, so that every restic and rustic-ts run opens it fast); its path. */
async function newRepo(): Promise<string> {
  const path = join(tmp.path, `repo${n++}`)
  const r = await Repository.init({}, { repository: new LocalBackend(path) }, { password: PASSWORD }, { kdf: { N: 1024, r: 8, p: 1 } })
  await r.close()
  return path
}

/** Runs a library call on the repository. */
async function withRepo<T>(path: string, fn: (r: Repository) => Promise<T>): Promise<T> {
  const r = await Repository.open({ noCache: true, lock: false }, { repository: new LocalBackend(path) }, { password: PASSWORD })
  try {
    return await fn(r)
  } finally {
    await r.close()
  }
}

/** The errors rustic-ts's `check --read-data` (the library's) finds. */
async function checkErrors(path: string): Promise<string[]> {
  return withRepo(path, async (r) => (await r.check({ readData: true })).findings.filter((f) => f.level === 'error').map((f) => f.message))
}

/** Bytes of every file of a directory tree. */
async function treeSize(dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size
  }
  return total
}

const base = (repo: string): string[] => ['-r', repo, '--no-cache', '--no-progress']

async function ok(args: string[]): Promise<string> {
  const r = await rustic(args)
  expect(r.code, `rustic-ts ${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r.stdout.toString()
}

/** A backup (by the library: quicker than a process) of `data` as `/name`; the snapshot id. */
async function backupStdin(repo: string, data: Uint8Array, name: string): Promise<Id> {
  return withRepo(repo, async (r) => {
    const source = new StreamSource(async function* () {
      yield data
    }, name)
    return (await (await r.toIndexed()).backup(source)).snapshot.id!
  })
}

/** A started process that reads `stdin` until we end it, with its outcome. */
function startWithStdin(program: string, args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d))
  child.stderr!.on('data', (d: Buffer) => (stderr += d))
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })))
  return { child, done }
}

/** Writes `data` to the child's stdin and waits until the pipe took it: the child has read all but the last pipe buffer. */
function feed(child: ChildProcess, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => child.stdin!.write(data, (e) => (e ? reject(e) : resolve())))
}

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('rustic-ts prune', () => {
  it('forget --keep-last 2 --prune --instant-delete frees what only the removed snapshots held: restic and rustic-ts check --read-data pass, restic restores the rest identically', async () => {
    const repo = await newRepo()
    const src = join(tmp.path, 'src-shrink')
    await mkdir(src)
    const shared = randomBytes(100_000)
    await writeFile(join(src, 'shared.bin'), shared)
    const unique: Buffer[] = []
    const ids: Id[] = []
    for (let i = 0; i < 5; i++) {
      unique.push(randomBytes(1 << 20))
      await writeFile(join(src, 'unique.bin'), unique[i]!)
      ids.push(await withRepo(repo, async (r) => (await (await r.toIndexed()).backup(src)).snapshot.id!))
    }
    const before = await treeSize(repo)
    const out = await ok([...base(repo), 'forget', '--keep-last', '2', '--prune', '--instant-delete'])
    expect(out).toContain('removed 3 snapshot(s)\n\n')
    expect(out).toMatch(/^\s+blobs\s+size\n/m)
    expect(out).toMatch(/^delete\s+\d+\s+/m)
    expect(out).toMatch(/^removed \d+ packs \(/m)
    expect((await withRepo(repo, (r) => r.snapshotIds())).sort()).toEqual(ids.slice(3).sort())
    const freed = before - (await treeSize(repo))
    // the three unique files (3 MiB, stored incompressible), their trees and snapshots, less the shared file's new copy
    expect(freed).toBeGreaterThan(3 * 2 ** 20 - 150_000)
    expect(freed).toBeLessThan(3 * 2 ** 20 + 150_000)
    await restic(repo, ['check', '--read-data'])
    expect(await ok([...base(repo), 'check', '--read-data'])).toContain('no errors were found')
    for (const [k, id] of ids.slice(3).entries()) {
      const target = join(tmp.path, `restored-${id}`)
      await restic(repo, ['restore', id, '--target', target])
      expect(await readFile(join(target, src, 'shared.bin'))).toEqual(shared)
      expect(await readFile(join(target, src, 'unique.bin'))).toEqual(unique[3 + k])
    }
  })

  it('refuses while a restic backup holds its lock, naming it; --ignore-locks plans anyway', async () => {
    const repo = await newRepo()
    await backupStdin(repo, randomBytes(1000), 'a.bin')
    const running = startWithStdin('restic', ['-r', repo, '--no-cache', 'backup', '--stdin', '--stdin-filename', 'slow.bin'], { RESTIC_PASSWORD: PASSWORD })
    try {
      await until(async () => (await readdir(join(repo, 'locks'))).length > 0)
      const r = await rustic([...base(repo), 'prune'])
      expect(r.code).toBe(1)
      expect(r.stderr.trim()).toMatch(
        new RegExp(`^rustic-ts: error: cannot take an exclusive lock on .*: it is locked by a shared lock of PID ${running.child.pid} on host "[^"]+" by .*; try again once it is released`),
      )
      const dry = await rustic([...base(repo), 'prune', '--ignore-locks', '--dry-run'])
      expect(dry.code, dry.stderr).toBe(0)
      expect(dry.stdout.toString()).toContain('dry run: nothing was changed')
    } finally {
      running.child.stdin!.end('done\n')
    }
    expect((await running.done).code).toBe(0)
    await restic(repo, ['check'])
    expect(await checkErrors(repo)).toEqual([])
  })

  for (const variant of [
    { name: 'both without locks (--no-lock)', backup: ['--no-lock'], prune: ['--no-lock'] },
    { name: 'a locking backup and prune --ignore-locks', backup: [], prune: ['prune-flag:--ignore-locks'] },
  ]) {
    it(`two-phase deletion keeps a backup that runs across a prune (${variant.name}): restic and rustic-ts check --read-data pass after the next prune`, async () => {
      const repo = await newRepo()
      const content = randomBytes(3 << 19) // more than a pipe holds, a chunk or two
      const forgotten = await backupStdin(repo, content, 'c.bin')
      const kept = await backupStdin(repo, randomBytes(20_000), 'other.bin')
      await withRepo(repo, (r) => r.deleteSnapshots([forgotten]))
      const globalFlags = variant.backup
      const pruneArgs = (more: string[] = []): string[] => [
        ...base(repo),
        ...variant.prune.filter((f) => !f.startsWith('prune-flag:')),
        'prune',
        ...variant.prune.filter((f) => f.startsWith('prune-flag:')).map((f) => f.slice('prune-flag:'.length)),
        ...more,
      ]

      // the backup loads the index (which still names the forgotten data), then reads its input: the same content
      const backup = startWithStdin(CLI, [...base(repo), ...globalFlags, '--json', 'backup', '--stdin', '--stdin-filename', 'c.bin'], { RUSTIC_PASSWORD: PASSWORD })
      await feed(backup.child, content)
      // meanwhile a prune marks the forgotten data's packs for deletion
      const first = JSON.parse(await ok(pruneArgs(['--json']))) as { result: { packsMarked: number; packsRemoved: number } }
      expect(first.result.packsMarked).toBeGreaterThan(0)
      expect(first.result.packsRemoved).toBe(0)
      backup.child.stdin!.end()
      const b = await backup.done
      expect(b.code, b.stderr).toBe(0)
      const snap = (JSON.parse(b.stdout.trim().split('\n').at(-1)!) as { snapshot_id: Id }).snapshot_id
      expect(JSON.parse(b.stdout.trim().split('\n').at(-1)!).data_blobs).toBe(0) // all deduplicated against the marked packs

      // the next prune takes the marked packs back: the backup's snapshot needs them
      const next = JSON.parse(await ok(pruneArgs(['--json']))) as { plan: { packs: Array<{ action: string }> }; result: { packsRecovered: number } }
      expect(next.result.packsRecovered).toBeGreaterThan(0)
      await restic(repo, ['check', '--read-data'])
      expect(await checkErrors(repo)).toEqual([])
      const target = join(tmp.path, `restored-${snap}`)
      await restic(repo, ['restore', snap, '--target', target])
      expect(await readFile(join(target, 'c.bin'))).toEqual(content)
      expect((await restic(repo, ['snapshots', '--json'])).toString()).toContain(kept)
    })
  }

  it('an append-only REST server: prune refuses before writing anything; a dry run works', async () => {
    const dir = join(tmp.path, 'served')
    await mkdir(dir)
    const server = createRestServer({ path: dir, noAuth: true, appendOnly: true, onWarning: () => {} })
    const { url } = await server.listen('127.0.0.1:0')
    try {
      const repo = `rest:${url}r/`
      expect((await rustic(['-r', repo, 'init'])).code).toBe(0)
      // two backups, two small index files: prune merges them, which removes the old ones
      await ok([...base(repo), 'backup', '--stdin'])
      await ok([...base(repo), 'backup', '--stdin', '--stdin-filename', 'other'])
      const before = await treeSize(dir)
      const r = await rustic([...base(repo), 'prune'])
      expect(r.code).toBe(1)
      expect(r.stderr.trim()).toMatch(/^rustic-ts: error: cannot prune rest:http:\/\/127\.0\.0\.1:\d+\/r\/?: it does not allow removing files \(an append-only or read-only repository or server\); nothing was changed$/)
      expect(await treeSize(dir)).toBe(before)
      expect((await rustic([...base(repo), 'prune', '-n'])).code).toBe(0)
    } finally {
      await server.close()
    }
  })

  it('flags: --json plan and result, --dry-run changes nothing, invalid values are refused naming the option', async () => {
    const repo = await newRepo()
    const a = await backupStdin(repo, randomBytes(5000), 'a.bin')
    await backupStdin(repo, randomBytes(5000), 'b.bin')
    await withRepo(repo, (r) => r.deleteSnapshots([a]))
    const files = async (): Promise<string[]> => (await readdir(repo, { recursive: true })).sort()
    const before = await files()
    const dry = JSON.parse(await ok([...base(repo), '--json', 'prune', '--dry-run', '--max-unused', '1M', '--max-repack-size', '1G', '--keep-delete', '2h'])) as {
      plan: { options: Record<string, unknown>; packs: Array<{ action: string; blobs: number; status: string[] }>; stats: { totals: { used: number } } }
      result: { dryRun: boolean }
    }
    expect(dry.result.dryRun).toBe(true)
    expect(dry.plan.options).toMatchObject({ maxUnused: { kind: 'bytes', bytes: 2 ** 20 }, maxRepack: { kind: 'bytes', bytes: 2 ** 30 }, keepDelete: 7_200_000, dryRun: true })
    expect(dry.plan.packs.map((p) => p.action).sort()).toEqual(['keep', 'keep', 'markDelete', 'markDelete'])
    expect(typeof dry.plan.packs[0]!.blobs).toBe('number')
    expect(await files()).toEqual(before)

    // forget --dry-run --prune: what pruning would do once the snapshot is gone, as a second JSON line
    const lines = (await ok([...base(repo), '--json', 'forget', '--keep-last', '0', '--keep-none', '--prune', '--dry-run'])).trim().split('\n')
    expect(lines).toHaveLength(2)
    const pruned = JSON.parse(lines[1]!) as { plan: { options: { ignoreSnapshots: string[] }; snapshots: string[]; packs: Array<{ action: string }> }; result: { dryRun: boolean } }
    expect(pruned.plan.options.ignoreSnapshots).toHaveLength(1)
    expect(pruned.plan.snapshots).toEqual([])
    expect(pruned.plan.packs.every((p) => p.action === 'markDelete')).toBe(true)
    expect(pruned.result.dryRun).toBe(true)
    expect(await files()).toEqual(before)

    for (const [args, message] of [
      [['--max-unused', '100%'], /^rustic-ts: error: invalid prune options: maxUnused: invalid size limit "100%"/],
      [['--keep-delete', 'later'], /^rustic-ts: error: invalid prune options: keepDelete: invalid duration "later"/],
      [['--max-repack', '1G', '--max-repack-size', '1G'], /^rustic-ts: error: --max-repack and --max-repack-size are the same option/],
      [['--fast-repack', '--repack-uncompressed'], /fastRepack copies blobs as stored/],
    ] as const) {
      const r = await rustic([...base(repo), 'prune', ...args])
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(message)
    }
    // forget --prune refuses invalid prune flags before it removes a snapshot
    const bad = await rustic([...base(repo), 'forget', '--keep-last', '0', '--keep-none', '--prune', '--keep-delete', 'later'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^rustic-ts: error: invalid prune options: keepDelete: invalid duration "later"/)
    expect(await files()).toEqual(before)
  })
})
