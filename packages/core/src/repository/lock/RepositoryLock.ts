import { hostname, userInfo } from 'node:os'
import { abortableSleep } from '../../backend/backoff.js'
import { isNotFound } from '../../backend/BackendError.js'
import type { DecryptBackend } from '../../backend/DecryptBackend.js'
import { RusticError, isRusticError, throwIfAborted } from '../../error/RusticError.js'
import { shortId, type Id } from '../../id/Id.js'
import type { WarningHandler } from '../../progress/Progress.js'
import { nowGoTime, serializeLock, type LockFile } from '../../repofile/index.js'
import { parseOptions } from '../../util/parseOptions.js'
import { describeLock, formatAge, lockInfo, type LockInfo } from './LockInfo.js'
import { registerLock, unregisterLock } from './lockRegistry.js'
import { readLocks } from './readLocks.js'
import { RepositoryLockedError } from './RepositoryLockedError.js'
import { LockTimingSchema, refreshDeadlineMs, type LockKind, type LockTiming, type ResolvedLockTiming } from './LockTiming.js'

/** Options of {@link RepositoryLock.acquire}. */
export interface AcquireLockOptions {
  /** Stops waiting or acquiring (code `Aborted`). */
  signal?: AbortSignal
  /** Told about waiting, failed refreshes, unreadable lock files and a lost lock. */
  onWarning?: WarningHandler
  /** How long to wait for conflicting locks to go away, in ms (restic's `--retry-lock`). Default 0: fail at once. */
  retryLockMs?: number
  /** Lock timing (restic's by default). */
  timing?: LockTiming
  /**
   * Called when this process's lock file is written (no conflicting lock was found), before the wait
   * and the second look for conflicts; read-only work may start then (see `RepositoryLocker.withLockEarly`).
   */
  onWritten?: () => void
}

/**
 * One lock file of this process in a repository, kept alive as restic keeps its locks (restic 0.14's
 * lock JSON in `locks/`, encrypted like every unpacked file, so restic clients see it and rustic-ts
 * clients see restic's):
 *
 * - **acquire**: list the locks; fail if one conflicts (an exclusive lock conflicts with every other
 *   lock, a shared one with exclusive ones; stale locks conflict too); write this lock; wait 200 ms;
 *   list again and, on a conflict, remove this lock and fail. With `retryLockMs`, wait (5 s, doubling
 *   up to 60 s) and try again until that time has passed.
 * - **refresh** every 5 minutes: check that the lock file still exists, write a new one with the current
 *   time, remove the old one.
 * - **lost**: when the file was removed by another client, or no refresh succeeded for 22.5 minutes
 *   (other clients may call a lock stale after 30), {@link signal} aborts with a `LockLost` error.
 * - **release**: stop refreshing and remove the file.
 *
 * Commands use it through `Repository.lock` / `Repository.withLock`, which share one lock among the
 * operations of a repository object.
 */
export class RepositoryLock {
  private readonly timing: ResolvedLockTiming
  private readonly lost = new AbortController()
  private refreshTimer: NodeJS.Timeout | undefined
  private expiryTimer: NodeJS.Timeout | undefined
  private refreshing: Promise<void> | undefined
  private released = false

  private constructor(
    private readonly dbe: DecryptBackend,
    /** The kind of lock held. */
    readonly kind: LockKind,
    private file: LockFile,
    private currentId: Id,
    /** When the current file was made (ms since the epoch). */
    private refreshedAt: number,
    timing: ResolvedLockTiming,
    private readonly onWarning: WarningHandler | undefined,
  ) {
    this.timing = timing
    registerLock(this)
    this.scheduleRefresh()
    this.armExpiry()
  }

  /**
   * Takes a lock of `kind` in the repository behind `dbe` (see the class description).
   * @throws RepositoryLockedError (code `RepositoryLocked`) naming a conflicting lock (host, PID, age,
   * whether it looks stale), once `retryLockMs` has passed; RusticError `Aborted` when `signal` aborts.
   */
  static async acquire(dbe: DecryptBackend, kind: LockKind, options: AcquireLockOptions = {}): Promise<RepositoryLock> {
    const timing = parseOptions(LockTimingSchema, options.timing, 'lock timing')
    const retryLockMs = options.retryLockMs ?? 0
    const deadline = Date.now() + retryLockMs
    let sleep = Math.min(timing.retrySleepStartMs, retryLockMs)
    let told = false
    for (;;) {
      try {
        return await RepositoryLock.tryAcquire(dbe, kind, timing, options)
      } catch (e) {
        const left = deadline - Date.now()
        if (!isRusticError(e, 'RepositoryLocked') || left <= 0) throw e
        const other = (e as RepositoryLockedError).locks?.[0]
        if (!told && other) {
          options.onWarning?.(`${dbe.backend.location()} is locked by ${describeLock(other, timing.staleAfterMs)}; waiting up to ${formatAge(retryLockMs)} for it`)
        }
        told = true
        await abortableSleep(Math.min(sleep, left), options.signal)
        sleep = Math.min(sleep * 2, timing.retrySleepMaxMs)
      }
    }
  }

  /** One attempt: check, write, wait, check again. */
  private static async tryAcquire(
    dbe: DecryptBackend,
    kind: LockKind,
    timing: ResolvedLockTiming,
    options: AcquireLockOptions,
  ): Promise<RepositoryLock> {
    const { signal, onWarning } = options
    throwIfAborted(signal)
    await throwOnConflict(dbe, kind, undefined, timing, options)
    const file = newLockFile(kind)
    const madeAt = Date.now()
    const id = await dbe.saveFile('lock', serializeLock(file), { signal })
    // From now on the file must go when the process is interrupted, also while it is being checked.
    const remove = (): Promise<void> =>
      dbe.backend.remove('lock', id, false).catch((err: unknown) => {
        if (!isNotFound(err)) onWarning?.(`cannot remove lock ${shortId(id)}: ${(err as Error).message}`, err)
      })
    const checking = { release: remove }
    registerLock(checking)
    try {
      options.onWritten?.()
      await abortableSleep(timing.recheckDelayMs, signal)
      await throwOnConflict(dbe, kind, id, timing, options)
    } catch (e) {
      await remove()
      throw e
    } finally {
      unregisterLock(checking)
    }
    return new RepositoryLock(dbe, kind, file, id, madeAt, timing, onWarning)
  }

  /** The id of the current lock file (it changes with each refresh). */
  get id(): Id {
    return this.currentId
  }

  /** The content of the current lock file. */
  get lockFile(): LockFile {
    return this.file
  }

  /** Aborts, with a `LockLost` {@link RusticError} as its reason, when the lock is lost. */
  get signal(): AbortSignal {
    return this.lost.signal
  }

  /** The `LockLost` error once the lock is lost, else undefined. */
  get lostError(): RusticError | undefined {
    return this.lost.signal.aborted ? (this.lost.signal.reason as RusticError) : undefined
  }

  /** True once {@link release} was called. */
  get isReleased(): boolean {
    return this.released
  }

  /**
   * Refreshes the lock now (the timer does it every refresh interval): makes sure the lock file still
   * exists, writes a new one with the current time and removes the old one. A lock found removed, or
   * not refreshed within the refresh deadline, is lost; other failures are thrown (the lock stays as
   * it was and the next refresh tries again).
   */
  refresh(): Promise<void> {
    if (this.released || this.lost.signal.aborted) return Promise.resolve()
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  private async doRefresh(): Promise<void> {
    if (this.overdue()) return
    const oldId = this.currentId
    if (!(await this.exists(oldId))) return
    const file: LockFile = { ...this.file, time: nowGoTime() }
    const madeAt = Date.now()
    const id = await this.dbe.saveFile('lock', serializeLock(file))
    if (this.released || this.lost.signal.aborted) {
      await this.removeQuietly(id)
      return
    }
    this.file = file
    this.currentId = id
    this.refreshedAt = madeAt
    this.armExpiry()
    try {
      await this.dbe.backend.remove('lock', oldId, false)
    } catch (e) {
      if (!isNotFound(e)) throw e
      this.markLost(`lock ${shortId(oldId)} was removed by another client while it was being refreshed`)
    }
  }

  /**
   * Makes sure the lock is still held: not lost, refreshed recently enough, and its file still in the
   * repository. Call it before a step that must not happen without the lock (backup: before writing
   * the snapshot).
   * @throws RusticError `LockLost` (the lock is then lost for good), `Aborted`, or a backend error.
   */
  async verify(signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal)
    if (this.released) throw new RusticError('Internal', `the ${this.kind} lock was already released`, { code: 'LockLost' })
    await this.refreshing?.catch(() => {})
    if (this.overdue() || !(await this.exists(this.currentId, signal))) throw this.lostError!
    if (this.lostError) throw this.lostError
  }

  /** Stops refreshing and removes the lock file (a file already gone is fine). */
  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    this.stopTimers()
    unregisterLock(this)
    await this.refreshing?.catch(() => {})
    try {
      await this.dbe.backend.remove('lock', this.currentId, false)
    } catch (e) {
      if (!isNotFound(e)) throw e
    }
  }

  /** True (and the lock marked lost) when the last refresh is older than the refresh deadline. */
  private overdue(): boolean {
    const deadline = refreshDeadlineMs(this.timing)
    if (Date.now() - this.refreshedAt <= deadline) return false
    this.markLost(`it could not be refreshed for ${formatAge(Date.now() - this.refreshedAt)} (other clients may consider it stale soon)`)
    return true
  }

  /** Whether lock file `id` still exists; marks the lock lost when it does not. */
  private async exists(id: Id, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.dbe.backend.readFull('lock', id, { signal })
      return true
    } catch (e) {
      if (!isNotFound(e)) throw e
      this.markLost(`lock ${shortId(id)} was removed by another client (e.g. unlock)`)
      return false
    }
  }

  private markLost(reason: string): void {
    if (this.lost.signal.aborted) return
    this.stopTimers()
    const err = new RusticError(
      'Repository',
      `the ${this.kind} lock on ${this.dbe.backend.location()} was lost: ${reason}; stopped before writing anything that needs it`,
      { code: 'LockLost' },
    )
    this.onWarning?.(err.message, err)
    this.lost.abort(err)
  }

  private scheduleRefresh(): void {
    this.refreshTimer = setTimeout(() => {
      this.refresh()
        .catch((e: unknown) => this.onWarning?.(`cannot refresh the lock on ${this.dbe.backend.location()}: ${(e as Error).message}`, e))
        .finally(() => {
          if (!this.released && !this.lost.signal.aborted) this.scheduleRefresh()
        })
    }, this.timing.refreshIntervalMs)
    this.refreshTimer.unref()
  }

  private armExpiry(): void {
    clearTimeout(this.expiryTimer)
    const left = this.refreshedAt + refreshDeadlineMs(this.timing) - Date.now()
    this.expiryTimer = setTimeout(() => this.overdue(), Math.max(0, left) + 1)
    this.expiryTimer.unref()
  }

  private stopTimers(): void {
    clearTimeout(this.refreshTimer)
    clearTimeout(this.expiryTimer)
  }

  private async removeQuietly(id: Id): Promise<void> {
    await this.dbe.backend.remove('lock', id, false).catch(() => {})
  }
}

/** This process's lock file content. */
function newLockFile(kind: LockKind): LockFile {
  const file: LockFile = { time: nowGoTime(), exclusive: kind === 'exclusive', hostname: hostname(), username: '', pid: process.pid }
  try {
    const u = userInfo()
    file.username = u.username
    if (u.uid > 0) file.uid = u.uid
    if (u.gid > 0) file.gid = u.gid
  } catch {
    // no user database entry: leave the name empty, as restic does
  }
  return file
}

/** Throws a {@link RepositoryLockedError} when a lock other than `own` conflicts with taking one of `kind`. */
async function throwOnConflict(
  dbe: DecryptBackend,
  kind: LockKind,
  own: Id | undefined,
  timing: ResolvedLockTiming,
  options: AcquireLockOptions,
): Promise<void> {
  const locks = await readLocks(dbe, {
    signal: options.signal,
    onWarning: options.onWarning,
    exclude: own === undefined ? undefined : new Set([own]),
  })
  const now = Date.now()
  const conflicts = locks
    .filter((l) => kind === 'exclusive' || l.lock.exclusive)
    .map((l) => lockInfo(l.id, l.lock, { staleAfterMs: timing.staleAfterMs, now }))
  if (conflicts.length === 0) return
  // Name the most telling one: an exclusive lock first, then a live one, then the youngest.
  const rank = (i: LockInfo): number => (i.lock.exclusive ? 0 : 2) + (i.stale ? 1 : 0)
  conflicts.sort((a, b) => rank(a) - rank(b) || a.ageMs - b.ageMs)
  const first = conflicts[0]!
  const others = conflicts.length > 1 ? ` and ${conflicts.length - 1} other lock(s)` : ''
  const hint = conflicts.every((c) => c.stale)
    ? 'if no other client uses the repository, remove stale locks with "rustic-ts unlock" (or "restic unlock")'
    : 'try again once it is released, or wait for it with --retry-lock (the retryLockMs option in the library)'
  throw new RepositoryLockedError(
    `cannot take ${kind === 'exclusive' ? 'an exclusive' : 'a shared'} lock on ${dbe.backend.location()}: it is locked by ${describeLock(first, timing.staleAfterMs)}${others}; ${hint}`,
    conflicts,
  )
}
