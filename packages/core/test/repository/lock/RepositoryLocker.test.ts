import { describe, expect, it } from 'vitest'
import { ForwardingBackend, MemoryBackend, RepositoryLocker, heldLockCount, isRusticError, releaseAllLocks, type CallOptions, type FileType, type Id } from '@rustic-ts/core/internal'
import { fastTiming, lockFiles, memoryRepo, plantLock } from './helpers.js'

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

describe('Repository.lock / withLock', () => {
  it('holds of one repository object share one lock file, removed when the last is released', async () => {
    const { repo } = await memoryRepo()
    const [a, b] = await Promise.all([repo.lock('shared'), repo.lock('shared')])
    expect(await lockFiles(repo)).toHaveLength(1)
    const c = await repo.lock('shared')
    expect(await lockFiles(repo)).toHaveLength(1)
    await a.release()
    await a.release() // idempotent: does not drop b's or c's hold
    await b.release()
    expect(await lockFiles(repo)).toHaveLength(1)
    await c.release()
    expect(await lockFiles(repo)).toHaveLength(0)
  })

  it('a held exclusive lock serves shared requests; withLock releases after the work, also on failure', async () => {
    const { repo } = await memoryRepo()
    await repo.withLock('exclusive', async (outer) => {
      expect(outer.kind).toBe('exclusive')
      await repo.withLock('shared', async (inner) => {
        expect(inner.kind).toBe('shared')
        const files = await lockFiles(repo)
        expect(files).toHaveLength(1)
        expect(files[0]!.lock.exclusive).toBe(true)
      })
      expect(await lockFiles(repo)).toHaveLength(1)
    })
    expect(await lockFiles(repo)).toHaveLength(0)
    await expect(repo.withLock('shared', () => Promise.reject(new Error('work failed')))).rejects.toThrow('work failed')
    expect(await lockFiles(repo)).toHaveLength(0)
  })

  it('another client\'s exclusive lock makes lock() fail with RepositoryLocked; retryLockMs waits for it', async () => {
    const { repo, open } = await memoryRepo()
    const other = await open()
    const held = await other.lock('exclusive')
    const err = await errorOf(repo.lock('shared'))
    expect(isRusticError(err, 'RepositoryLocked')).toBe(true)
    const waiting = await open({ retryLockMs: 1000 })
    setTimeout(() => void held.release(), 300)
    const warnings: string[] = []
    const h = await waiting.lock('exclusive', { onWarning: (m) => warnings.push(m) })
    expect(warnings[0]).toMatch(/is locked by an exclusive lock .*; waiting up to 1s for it$/)
    await h.release()
    expect(await lockFiles(repo)).toHaveLength(0)
  })

  it('the handle\'s signal follows the caller\'s signal and a lost lock; withLock then throws LockLost', async () => {
    const { repo } = await memoryRepo()
    const ac = new AbortController()
    const h = await repo.lock('shared', { signal: ac.signal })
    ac.abort()
    expect(h.signal.aborted).toBe(true)
    expect(h.lostError).toBeUndefined()
    await h.release()

    const err = await errorOf(
      repo.withLock('shared', async (lock) => {
        const [file] = await lockFiles(repo)
        await repo.backend.remove('lock', file!.id as never, false)
        await lock.verify()
      }),
    )
    expect(isRusticError(err, 'LockLost')).toBe(true)
    // the lost lock is not reused: the next request takes a new one
    const again = await repo.lock('shared')
    await again.verify()
    expect(await lockFiles(repo)).toHaveLength(1)
    await again.release()
  })

  it('lock: false takes no locks and ignores others\' (for repositories no restic client uses)', async () => {
    const { open } = await memoryRepo()
    const repo = await open({ lock: false })
    await plantLock(repo, { exclusive: true })
    await repo.withLock('exclusive', async (lock) => {
      await lock.verify()
      expect(lock.signal.aborted).toBe(false)
    })
    expect(await lockFiles(repo)).toHaveLength(1) // only the planted one
  })

  it('close() and releaseAllLocks() remove the locks still held', async () => {
    const { repo, open } = await memoryRepo()
    const before = heldLockCount()
    await repo.lock('shared')
    await repo.close()
    const other = await open()
    expect(await lockFiles(other)).toHaveLength(0)
    await other.lock('exclusive')
    expect(heldLockCount()).toBe(before + 1)
    await releaseAllLocks()
    expect(heldLockCount()).toBe(before)
    expect(await lockFiles(other)).toHaveLength(0)
  })

  it('withLockEarly starts the work after the first look at the locks and returns once the second finds none', async () => {
    const backend = new LockListCounter(new MemoryBackend())
    const { repo } = await memoryRepo(backend)
    const locker = new RepositoryLocker(repo.dbe, { enabled: true, retryLockMs: 0, timing: fastTiming })
    const result = await locker.withLockEarly('exclusive', async (lock) => {
      const looks = backend.lockLists
      expect((await lockFiles(repo)).map((f) => f.lock.exclusive)).toEqual([true])
      expect(lock.signal.aborted).toBe(false)
      return looks
    })
    expect(result).toBe(1) // started before the second look
    expect(backend.lockLists).toBe(2 + 1) // (and the lockFiles call above)
    expect(await lockFiles(repo)).toHaveLength(0)
    // with retryLockMs, no early start
    const waiting = new RepositoryLocker(repo.dbe, { enabled: true, retryLockMs: 100, timing: fastTiming })
    backend.lockLists = 0
    expect(await waiting.withLockEarly('shared', async () => backend.lockLists)).toBe(2)
  })

  it('withLockEarly: a conflict found by the second look aborts the work, removes the lock and throws RepositoryLocked', async () => {
    const { repo } = await memoryRepo()
    const locker = new RepositoryLocker(repo.dbe, { enabled: true, retryLockMs: 0, timing: { ...fastTiming, recheckDelayMs: 100 } })
    let aborted = false
    const err = await errorOf(
      locker.withLockEarly('exclusive', async (lock) => {
        await plantLock(repo, { exclusive: true })
        await new Promise<void>((resolve) => lock.signal.addEventListener('abort', () => resolve(), { once: true }))
        aborted = true
        throw lock.signal.reason
      }),
    )
    expect(isRusticError(err, 'RepositoryLocked')).toBe(true)
    expect(aborted).toBe(true)
    expect(await lockFiles(repo)).toHaveLength(1) // only the planted one
  })

  it('withLockEarly: shared requests made during the wait are served at once, released without waiting, and held once it is confirmed', async () => {
    const backend = new LockListCounter(new MemoryBackend())
    const { repo } = await memoryRepo(backend)
    const locker = new RepositoryLocker(repo.dbe, { enabled: true, retryLockMs: 0, timing: { ...fastTiming, recheckDelayMs: 100 } })
    const seen = await locker.withLockEarly('shared', async () => {
      const inner = await locker.withLock('shared', async (lock) => ({ looks: backend.lockLists, aborted: lock.signal.aborted }))
      const afterRelease = backend.lockLists // (its release did not wait for the second look)
      const held = await locker.acquire('shared')
      await held.verify() // waits for the second look
      const afterVerify = backend.lockLists
      await held.release()
      return { inner, afterRelease, afterVerify, files: (await lockFiles(repo)).length }
    })
    expect(seen.inner).toEqual({ looks: 1, aborted: false })
    expect(seen.afterRelease).toBe(1)
    expect(seen.afterVerify).toBe(2)
    expect(seen.files).toBe(1) // one lock file for all the holds; the outer one keeps it
    expect(await lockFiles(repo)).toHaveLength(0)
  })

  it('withLockEarly: a request served during the wait is aborted when the second look finds a conflict', async () => {
    const { repo } = await memoryRepo()
    const locker = new RepositoryLocker(repo.dbe, { enabled: true, retryLockMs: 0, timing: { ...fastTiming, recheckDelayMs: 100 } })
    let innerError: unknown
    const err = await errorOf(
      locker.withLockEarly('shared', async () => {
        await plantLock(repo, { exclusive: true })
        innerError = await errorOf(
          locker.withLock('shared', async (lock) => {
            await new Promise<void>((resolve) => lock.signal.addEventListener('abort', () => resolve(), { once: true }))
            throw lock.signal.reason
          }),
        )
      }),
    )
    expect(isRusticError(err, 'RepositoryLocked')).toBe(true)
    expect(isRusticError(innerError, 'RepositoryLocked')).toBe(true)
    expect(await lockFiles(repo)).toHaveLength(1) // only the planted one
  })
})

/** Counts the listings of lock files (each look for conflicting locks lists them). */
class LockListCounter extends ForwardingBackend {
  lockLists = 0
  override list(type: FileType, options?: CallOptions): Promise<Id[]> {
    if (type === 'lock') this.lockLists++
    return super.list(type, options)
  }
}
