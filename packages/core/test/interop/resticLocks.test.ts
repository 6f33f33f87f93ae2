/**
 * Locks against the real restic 0.14: restic sees and honours rustic-ts's locks, rustic-ts sees and
 * honours restic's, and both agree on which locks are stale.
 */
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RepositoryLock, isRusticError, parseLock, type Repository } from '@rustic-ts/core/internal'
import { cheapRepo, finished, restic, startRestic, until } from './helpers.js'

let fx: Awaited<ReturnType<typeof cheapRepo>>
let repo: Repository

beforeAll(async () => {
  fx = await cheapRepo('rustic-ts-restic-locks-')
  repo = await fx.open()
})

afterAll(async () => {
  await repo?.close()
  await fx?.remove()
})

describe('locks shared with restic 0.14', () => {
  it('restic sees our shared lock: prune refuses, restic reads it, and its unlock keeps it (it is alive)', async () => {
    const lock = await repo.lock('shared')
    const prune = await restic(fx.repo, ['prune'])
    expect(prune.code).not.toBe(0)
    expect(prune.stderr).toContain('repository is already locked')
    expect(prune.stderr).toContain(`PID ${process.pid} on ${hostname()}`)

    const listed = (await restic(fx.repo, ['list', 'locks', '--no-lock'])).stdout.trim().split('\n')
    expect(listed).toHaveLength(1)
    const cat = await restic(fx.repo, ['cat', 'lock', listed[0]!, '--no-lock'])
    expect(cat.code).toBe(0)
    expect(JSON.parse(cat.stdout)).toMatchObject({ exclusive: false, hostname: hostname(), pid: process.pid })

    expect((await restic(fx.repo, ['unlock'])).code).toBe(0)
    expect(await repo.backend.list('lock')).toHaveLength(1)
    await lock.verify()
    // restic backup takes a shared lock too: it runs beside ours
    expect((await restic(fx.repo, ['backup', '--stdin', '--stdin-filename', 'x'], 'beside\n')).code).toBe(0)
    await lock.release()
    expect(await repo.backend.list('lock')).toHaveLength(0)
    expect((await restic(fx.repo, ['prune'])).code).toBe(0)
  })

  it('we see restic\'s lock: a running restic backup makes an exclusive lock fail naming it, and wait with retryLockMs', async () => {
    // restic takes its lock, then waits for stdin
    const child = startRestic(fx.repo, ['backup', '--stdin', '--stdin-filename', 'held.txt'])
    const done = finished(child)
    await until(async () => (await repo.backend.list('lock')).length === 1)
    const [id] = await repo.backend.list('lock')
    const theirs = parseLock(await repo.dbe.readEncryptedFull('lock', id!), 'lock')
    expect(theirs).toMatchObject({ exclusive: false, pid: child.pid, hostname: hostname() })

    const err = await repo.lock('exclusive').catch((e: unknown) => e)
    expect(isRusticError(err, 'RepositoryLocked')).toBe(true)
    expect((err as Error).message).toContain(`it is locked by a shared lock of PID ${child.pid} on host ${JSON.stringify(hostname())}`)
    expect((err as Error).message).not.toContain('stale')
    // a shared lock goes beside it
    const shared = await repo.lock('shared')
    await shared.release()

    // waiting: restic finishes meanwhile and removes its lock
    const warnings: string[] = []
    const acquired = RepositoryLock.acquire(repo.dbe, 'exclusive', {
      retryLockMs: 30_000,
      timing: { retrySleepStartMs: 100, retrySleepMaxMs: 200 },
      onWarning: (m) => warnings.push(m),
    })
    await until(async () => warnings.length > 0)
    child.stdin!.end('some data\n')
    expect((await done).code).toBe(0)
    const held = await acquired
    expect(warnings[0]).toContain(`PID ${child.pid}`)
    expect(warnings[0]).toContain('waiting up to 30s')
    // ... and now restic is the one refused
    const refused = await restic(fx.repo, ['backup', '--stdin', '--stdin-filename', 'y'], 'refused\n')
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('repository is already locked exclusively')
    await held.release()
  })

  it('a killed restic leaves a lock both call stale; restic unlock and ours remove it', async () => {
    for (const remover of ['restic', 'rustic-ts'] as const) {
      const child = startRestic(fx.repo, ['backup', '--stdin', '--stdin-filename', 'killed.txt'])
      const done = finished(child)
      await until(async () => (await repo.backend.list('lock')).length === 1)
      child.kill('SIGKILL')
      await done
      const err = await repo.lock('exclusive').catch((e: unknown) => e)
      expect((err as Error).message).toContain(`it looks stale: process ${child.pid} no longer runs on this host`)
      if (remover === 'restic') expect((await restic(fx.repo, ['unlock'])).code).toBe(0)
      else expect((await repo.unlock()).removed.map((l) => l.lock.pid)).toEqual([child.pid])
      expect(await repo.backend.list('lock')).toHaveLength(0)
    }
    expect((await restic(fx.repo, ['check'])).code).toBe(0)
  })
})
