/**
 * The CLI's locks: commands fail (or wait with --retry-lock) on another client's lock and name it,
 * --no-lock, unlock [--remove-all], and an interrupted backup removes its lock.
 */
import { spawn } from 'node:child_process'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository } from '@rustic-ts/core'
import { goTimeFromDate, parseLock, serializeLock, type LockFile } from '@rustic-ts/core/internal'
import { CLI, PASSWORD, restic, rustic, tempDir } from '../helpers/restic.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let repoPath: string
let repo: Repository

/** Writes a lock file as another client would. */
async function plant(fields: Partial<LockFile> & { ageMs?: number }): Promise<string> {
  const { ageMs = 0, ...rest } = fields
  const file: LockFile = { time: goTimeFromDate(new Date(Date.now() - ageMs)), exclusive: false, hostname: 'other-host', username: 'ann', pid: 4242, ...rest }
  return repo.dbe.saveFile('lock', serializeLock(file))
}

async function locks(): Promise<Array<{ id: string; lock: LockFile }>> {
  const ids = await repo.backend.list('lock')
  return Promise.all(ids.map(async (id) => ({ id, lock: parseLock(await repo.dbe.readEncryptedFull('lock', id), 'lock') })))
}

async function clearLocks(): Promise<void> {
  for (const id of await repo.backend.list('lock')) await repo.backend.remove('lock', id, false)
}

const base = (): string[] => ['-r', repoPath, '--no-cache', '--no-progress']

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-cli-locks-')
  repoPath = join(tmp.path, 'repo')
  repo = await Repository.init({}, { repository: new LocalBackend(repoPath) }, { password: PASSWORD }, { kdf: { N: 1024, r: 8, p: 1 } })
})

afterAll(async () => {
  await repo?.close()
  await tmp?.remove()
})

describe('CLI locks', () => {
  it('a backup fails on an exclusive lock of another client, naming it; --retry-lock waits; --no-lock ignores it', async () => {
    await plant({ exclusive: true, hostname: 'pruner', pid: 999, ageMs: 65_000 })
    const r = await rustic([...base(), 'backup', '--stdin', '--stdin-filename', 'a.txt'], {}, new TextEncoder().encode('a\n'))
    expect(r.code).toBe(1)
    expect(r.stderr.trim()).toMatch(
      /^rustic-ts: error: cannot take a shared lock on .*: it is locked by an exclusive lock of PID 999 on host "pruner" by ann, made .* \(1m[5-9]s ago; lock [0-9a-f]{8}\); try again once it is released, or wait for it with --retry-lock/,
    )
    expect(await repo.snapshotIds()).toEqual([])

    const waited = await rustic([...base(), '--retry-lock', '1s', 'snapshots'])
    expect(waited.code).toBe(1)
    expect(waited.stderr).toMatch(/^warning: .* is locked by an exclusive lock of PID 999 on host "pruner".*; waiting up to 1s for it$/m)
    expect(waited.stderr).toMatch(/^rustic-ts: error: cannot take a shared lock/m)

    const bad = await rustic([...base(), '--retry-lock', 'soon', 'snapshots'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('invalid --retry-lock "soon"')

    const unlocked = await rustic([...base(), '--no-lock', 'backup', '--stdin', '--stdin-filename', 'a.txt'], {}, new TextEncoder().encode('a\n'))
    expect(unlocked.code, unlocked.stderr).toBe(0)
    expect(await locks()).toHaveLength(1) // only the planted one
    await clearLocks()
  })

  it('unlock removes stale locks and keeps live ones; --remove-all removes all', async () => {
    const old = await plant({ ageMs: 31 * 60_000 })
    const live = await plant({ hostname: 'elsewhere', pid: 7 })
    const r = await rustic([...base(), 'unlock'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.toString()).toMatch(/^removed 1 lock\(s\)\nkept a shared lock of PID 7 on host "elsewhere"/)
    expect((await locks()).map((l) => l.id)).toEqual([live])
    expect(old).not.toBe(live)
    const all = await rustic([...base(), '--json', 'unlock', '--remove-all'])
    expect(all.code).toBe(0)
    expect(JSON.parse(all.stdout.toString())).toEqual({ removed: [live], removed_files: 1, kept: [] })
    expect(await locks()).toEqual([])
  })

  it('holds a shared lock while it backs up (restic prune refuses), and removes it when interrupted', async () => {
    const child = spawn(CLI, [...base(), 'backup', '--stdin', '--stdin-filename', 'slow.txt'], {
      env: { ...process.env, RUSTIC_PASSWORD: PASSWORD },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    child.stdin.write('some data\n') // and keep stdin open: the backup waits for more
    for (let i = 0; i < 500 && (await locks()).length === 0; i++) await new Promise((r) => setTimeout(r, 20))
    const held = await locks()
    expect(held).toHaveLength(1)
    expect(held[0]!.lock).toMatchObject({ exclusive: false, pid: child.pid, hostname: hostname() })

    const prune = await restic(repoPath, ['prune']).catch((e: Error) => e)
    expect(prune).toBeInstanceOf(Error)
    expect((prune as Error).message).toContain(`repository is already locked by PID ${child.pid}`)

    child.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(await locks()).toEqual([])
  })
})
