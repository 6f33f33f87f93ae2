import { describe, expect, it } from 'vitest'
import {
  ForwardingBackend,
  MemoryBackend,
  RepositoryLock,
  RusticError,
  isRusticError,
  type CallOptions,
  type FileType,
  type Id,
  type RepositoryLockedError,
} from '@rustic-ts/core/internal'
import { deadPid, fastTiming, lockFiles, memoryRepo, plantLock, thisHost } from './helpers.js'

/** Fails lock writes while `failing` is set (a storage outage for lock files only). */
class FlakyLockWrites extends ForwardingBackend {
  failing = false
  override writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    if (this.failing && type === 'lock') return Promise.reject(new Error('storage unreachable'))
    return super.writeBytes(type, id, cacheable, data, options)
  }
}

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

describe('RepositoryLock', () => {
  it('writes restic\'s lock JSON (this host, PID, user, kind) and removes it on release', async () => {
    const { repo } = await memoryRepo()
    const lock = await RepositoryLock.acquire(repo.dbe, 'exclusive', { timing: fastTiming })
    const files = await lockFiles(repo)
    expect(files).toHaveLength(1)
    expect(files[0]!.id).toBe(lock.id)
    expect(files[0]!.lock).toMatchObject({ exclusive: true, hostname: thisHost, pid: process.pid })
    expect(Date.now() - Date.parse(files[0]!.lock.time)).toBeLessThan(60_000)
    await lock.release()
    expect(await repo.backend.list('lock')).toEqual([])
    await lock.release() // twice is fine
  })

  it('shared locks coexist; exclusive conflicts with any lock, shared with exclusive; a failed try leaves no file', async () => {
    const { repo } = await memoryRepo()
    const a = await RepositoryLock.acquire(repo.dbe, 'shared', { timing: fastTiming })
    const b = await RepositoryLock.acquire(repo.dbe, 'shared', { timing: fastTiming })
    const err = (await errorOf(RepositoryLock.acquire(repo.dbe, 'exclusive', { timing: fastTiming }))) as RepositoryLockedError
    expect(isRusticError(err, 'RepositoryLocked')).toBe(true)
    expect(err.message).toMatch(/^cannot take an exclusive lock on memory:.*: it is locked by a shared lock of PID \d+ \(this process\) on host ".*" by .*, made .* \(\d+s ago; lock [0-9a-f]{8}\) and 1 other lock\(s\); try again once it is released/)
    expect(err.locks).toHaveLength(2)
    expect((await repo.backend.list('lock')).sort()).toEqual([a.id, b.id].sort())
    await a.release()
    await b.release()

    const x = await RepositoryLock.acquire(repo.dbe, 'exclusive', { timing: fastTiming })
    const shared = (await errorOf(RepositoryLock.acquire(repo.dbe, 'shared', { timing: fastTiming }))) as RepositoryLockedError
    expect(shared.message).toContain('cannot take a shared lock')
    expect(shared.message).toContain('locked by an exclusive lock of PID')
    expect(await repo.backend.list('lock')).toEqual([x.id])
    await x.release()
  })

  it('names the other lock\'s host, PID and age, and says when it looks stale (old, or a dead process on this host)', async () => {
    const { repo } = await memoryRepo()
    await plantLock(repo, { exclusive: true, hostname: 'nas', pid: 777, username: 'backup', ageMs: 3 * 60_000 + 12_000 })
    const live = (await errorOf(RepositoryLock.acquire(repo.dbe, 'shared', { timing: fastTiming }))) as Error
    expect(live.message).toMatch(/locked by an exclusive lock of PID 777 on host "nas" by backup, made \S+ \S+ \(3m12s ago; lock [0-9a-f]{8}\); try again/)
    expect(live.message).not.toContain('stale')

    const old = await memoryRepo()
    await plantLock(old.repo, { exclusive: true, hostname: 'nas', pid: 777, ageMs: 31 * 60_000 })
    const oldErr = (await errorOf(RepositoryLock.acquire(old.repo.dbe, 'shared', { timing: fastTiming }))) as Error
    expect(oldErr.message).toContain('(31m ago; lock ')
    expect(oldErr.message).toContain('it looks stale: older than 30m')
    expect(oldErr.message).toContain('remove stale locks with "rustic-ts unlock"')

    const dead = await memoryRepo()
    const pid = await deadPid()
    await plantLock(dead.repo, { exclusive: true, hostname: thisHost, pid })
    const deadErr = (await errorOf(RepositoryLock.acquire(dead.repo.dbe, 'shared', { timing: fastTiming }))) as Error
    expect(deadErr.message).toContain(`it looks stale: process ${pid} no longer runs on this host`)
    // like restic, a stale lock still blocks until it is removed
    expect(isRusticError(deadErr, 'RepositoryLocked')).toBe(true)
  })

  it('waits up to retryLockMs for a conflicting lock to go away, telling once that it waits', async () => {
    const { repo } = await memoryRepo()
    const other = await RepositoryLock.acquire(repo.dbe, 'exclusive', { timing: fastTiming })
    setTimeout(() => void other.release(), 150)
    const warnings: string[] = []
    const lock = await RepositoryLock.acquire(repo.dbe, 'shared', { timing: fastTiming, retryLockMs: 10_000, onWarning: (m) => warnings.push(m) })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^memory:.* is locked by an exclusive lock of PID \d+ \(this process\).*; waiting up to 10s for it$/)
    expect(await repo.backend.list('lock')).toEqual([lock.id])
    await lock.release()
  })

  it('fails once retryLockMs has passed, and stops waiting when aborted', async () => {
    const { repo } = await memoryRepo()
    await plantLock(repo, { exclusive: true })
    const started = Date.now()
    const err = await errorOf(RepositoryLock.acquire(repo.dbe, 'shared', { timing: fastTiming, retryLockMs: 300 }))
    expect(isRusticError(err, 'RepositoryLocked')).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 100)
    const aborted = await errorOf(RepositoryLock.acquire(repo.dbe, 'shared', { timing: fastTiming, retryLockMs: 600_000, signal: ac.signal }))
    expect(isRusticError(aborted, 'Aborted')).toBe(true)
    expect(await repo.backend.list('lock')).toHaveLength(1) // only the planted one
  })

  it('of two clients taking exclusive locks at the same moment, at most one gets it', async () => {
    for (let round = 0; round < 5; round++) {
      const { repo, open } = await memoryRepo()
      const other = await open()
      const results = await Promise.allSettled([
        RepositoryLock.acquire(repo.dbe, 'exclusive', { timing: fastTiming }),
        RepositoryLock.acquire(other.dbe, 'exclusive', { timing: fastTiming }),
      ])
      const won = results.filter((r) => r.status === 'fulfilled')
      expect(won.length).toBeLessThanOrEqual(1)
      for (const r of results) if (r.status === 'rejected') expect(isRusticError(r.reason, 'RepositoryLocked')).toBe(true)
      expect(await repo.backend.list('lock')).toHaveLength(won.length)
      for (const r of won) await r.value.release()
    }
  })

  it('refreshes: a new file with a later time replaces the old one', async () => {
    const { repo } = await memoryRepo()
    const lock = await RepositoryLock.acquire(repo.dbe, 'shared', { timing: { ...fastTiming, refreshIntervalMs: 30 } })
    const first = { id: lock.id, time: lock.lockFile.time }
    await new Promise((r) => setTimeout(r, 200))
    await lock.refresh() // let an in-flight refresh settle
    expect(lock.id).not.toBe(first.id)
    expect(Date.parse(lock.lockFile.time)).toBeGreaterThan(Date.parse(first.time))
    const files = await lockFiles(repo)
    expect(files.map((f) => f.id)).toEqual([lock.id])
    expect(files[0]!.lock.time).toBe(lock.lockFile.time)
    await lock.verify()
    await lock.release()
    expect(await repo.backend.list('lock')).toEqual([])
  })

  it('is lost when its file is removed by another client: the signal aborts with LockLost and verify fails', async () => {
    const { repo } = await memoryRepo()
    const warnings: string[] = []
    const lock = await RepositoryLock.acquire(repo.dbe, 'shared', { timing: fastTiming, onWarning: (m) => warnings.push(m) })
    await lock.verify()
    await repo.backend.remove('lock', lock.id, false) // e.g. `unlock --remove-all` elsewhere
    const err = await errorOf(lock.verify())
    expect(isRusticError(err, 'LockLost')).toBe(true)
    expect((err as Error).message).toMatch(/^the shared lock on memory:.* was lost: lock [0-9a-f]{8} was removed by another client/)
    expect(lock.signal.aborted).toBe(true)
    expect(lock.signal.reason).toBe(err)
    expect(warnings).toEqual([(err as Error).message])
    await lock.release()
  })

  it('a lock removed under it is noticed by the next refresh', async () => {
    const { repo } = await memoryRepo()
    const lock = await RepositoryLock.acquire(repo.dbe, 'exclusive', { timing: { ...fastTiming, refreshIntervalMs: 30 } })
    await repo.backend.remove('lock', lock.id, false)
    await new Promise<void>((resolve) => lock.signal.addEventListener('abort', () => resolve()))
    expect(isRusticError(lock.lostError, 'LockLost')).toBe(true)
    expect(await repo.backend.list('lock')).toEqual([]) // no new file was written for a lost lock
    await lock.release()
  })

  it('is lost when it cannot be refreshed before others may call it stale', async () => {
    const flaky = new FlakyLockWrites(new MemoryBackend())
    const { repo } = await memoryRepo(flaky)
    const warnings: string[] = []
    // refresh every 40 ms, stale after 200 ms: lost when not refreshed for 200 - 1.5 * 40 = 140 ms
    const timing = { ...fastTiming, refreshIntervalMs: 40, staleAfterMs: 200 }
    const lock = await RepositoryLock.acquire(repo.dbe, 'shared', { timing, onWarning: (m) => warnings.push(m) })
    flaky.failing = true
    await new Promise<void>((resolve) => lock.signal.addEventListener('abort', () => resolve()))
    expect(warnings.some((w) => w.includes('cannot refresh the lock') && w.includes('storage unreachable'))).toBe(true)
    expect(lock.lostError!.message).toMatch(/was lost: it could not be refreshed for \d+s/)
    expect(isRusticError(await errorOf(lock.verify()), 'LockLost')).toBe(true)
    flaky.failing = false
    await lock.release()
    expect(await repo.backend.list('lock')).toEqual([])
  })

  it('ignores unreadable lock files, as restic 0.14 does, with a warning', async () => {
    const { repo } = await memoryRepo()
    const garbage = new Uint8Array([1, 2, 3])
    const { hashId } = await import('@rustic-ts/core')
    await repo.backend.writeBytes('lock', hashId(garbage), false, garbage)
    const warnings: string[] = []
    const lock = await RepositoryLock.acquire(repo.dbe, 'exclusive', { timing: fastTiming, onWarning: (m) => warnings.push(m) })
    expect(warnings.some((w) => w.startsWith(`ignoring lock ${hashId(garbage)}`))).toBe(true)
    await lock.release()
  })

  it('errors are RusticErrors with a code', async () => {
    const { repo } = await memoryRepo()
    await plantLock(repo, { exclusive: true })
    const err = await errorOf(RepositoryLock.acquire(repo.dbe, 'exclusive', { timing: fastTiming }))
    expect(err).toBeInstanceOf(RusticError)
    expect((err as RusticError).kind).toBe('Repository')
  })
})
