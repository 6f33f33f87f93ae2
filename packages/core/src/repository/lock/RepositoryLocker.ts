import type { DecryptBackend } from '../../backend/DecryptBackend.js'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import type { WarningHandler } from '../../progress/Progress.js'
import type { LockKind, LockTiming } from './LockTiming.js'
import { RepositoryLock } from './RepositoryLock.js'

/**
 * A hold on the repository's lock, from `Repository.lock` (or the argument of `Repository.withLock`).
 * Release it when done; until then the lock file is refreshed every 5 minutes.
 */
export interface LockHandle {
  /** The kind asked for (the lock held may be exclusive when `shared` was asked for). */
  readonly kind: LockKind
  /**
   * Aborts when the caller's signal aborts or the lock is lost (its reason is then the `LockLost`
   * error). Pass it to the work done under the lock.
   */
  readonly signal: AbortSignal
  /** The `LockLost` error once the lock is lost, else undefined. */
  readonly lostError: RusticError | undefined
  /**
   * Makes sure the lock is still held (not lost, refreshed in time, its file still in the repository);
   * call it right before a step that must not happen without it, such as writing a snapshot.
   * Does nothing when locking is off.
   * @throws RusticError `LockLost` or `Aborted`.
   */
  verify(): Promise<void>
  /** Gives up this hold; the lock file is removed when no other hold remains. Idempotent, never throws. */
  release(): Promise<void>
}

/** Options of a {@link RepositoryLocker}. */
export interface RepositoryLockerOptions {
  /** False: take no locks (handles are no-ops). */
  enabled: boolean
  /** How long to wait for conflicting locks, in ms (restic's `--retry-lock`). */
  retryLockMs: number
  /** Default for warnings when a request gives none. */
  onWarning?: WarningHandler
  /** Lock timing (restic's by default). */
  timing?: LockTiming
}

/** A lock shared by the holds of one repository object. */
interface Held {
  lock: RepositoryLock
  holds: number
}

/**
 * The locks of one repository object. Holds share locks: a `shared` request is served by a held
 * shared or exclusive lock, an `exclusive` request by a held exclusive lock; concurrent requests wait
 * for one acquisition. The lock file is removed when the last hold is released. An exclusive request
 * while only a shared lock is held takes a new lock, which conflicts with the held one (as it would
 * for two restic processes).
 */
export class RepositoryLocker {
  private readonly held = new Map<LockKind, Held>()
  private readonly pending = new Map<LockKind, Promise<Held>>()
  /** A lock of {@link RepositoryLocker.withLockEarly} written and waiting for its second look (its signal aborts if that fails). */
  private early: { kind: LockKind; signal: AbortSignal } | undefined

  constructor(
    private readonly dbe: DecryptBackend,
    private readonly options: RepositoryLockerOptions,
  ) {}

  /** True when locks are taken (the repository was not opened with `lock: false`). */
  get enabled(): boolean {
    return this.options.enabled
  }

  /**
   * Takes (or shares) a lock of `kind`. The control's signal stops the wait and is combined into the
   * handle's; its `onWarning` is told about waiting, failed refreshes and a lost lock.
   * @throws RepositoryLockedError (code `RepositoryLocked`), RusticError `Aborted`, or a backend error.
   */
  async acquire(kind: LockKind, control: Control = {}, onWritten?: () => void): Promise<LockHandle> {
    throwIfAborted(control.signal)
    if (!this.options.enabled) return unlockedHandle(kind, control.signal)
    const early = this.early
    const served = early && (kind === 'shared' || early.kind === 'exclusive') ? this.earlyHold(kind, early, control) : undefined
    if (served) return served
    const held = await this.hold(kind, control, onWritten)
    return new Hold(kind, held, control.signal, () => this.drop(held, control))
  }

  /**
   * Runs `fn` holding a lock of `kind` and releases it afterwards. When the lock is lost while `fn`
   * runs, the `LockLost` error is thrown in place of whatever `fn` failed with (typically `Aborted`).
   */
  async withLock<T>(kind: LockKind, fn: (lock: LockHandle) => Promise<T>, control: Control = {}): Promise<T> {
    const lock = await this.acquire(kind, control)
    try {
      return await fn(lock)
    } catch (e) {
      throw lock.lostError ?? e
    } finally {
      await lock.release()
    }
  }

  /**
   * {@link RepositoryLocker.withLock} for work that only reads the repository: when this call takes a new
   * lock (and `retryLockMs` is 0), `fn` starts as soon as the lock file is written, no conflicting lock
   * having been found, and runs during the wait before the second look for conflicts (restic's 200 ms),
   * which would otherwise be idle. Its result is returned only once the lock is confirmed; if the second
   * look finds a conflict, `fn`'s signal aborts and the lock's error is thrown. No client changes the
   * repository before its own second look, which would see this lock, so what `fn` reads meanwhile is
   * what it would read under the lock.
   *
   * Requests this lock serves that are made during the wait (by `fn`, e.g. the shared lock of a command
   * it calls) are served at once: their handle's signal aborts if the second look fails, `verify` waits
   * for it, and their hold counts once the lock is confirmed.
   */
  async withLockEarly<T>(kind: LockKind, fn: (lock: LockHandle) => Promise<T>, control: Control = {}): Promise<T> {
    throwIfAborted(control.signal)
    if (!this.options.enabled || this.options.retryLockMs > 0 || this.usable(kind) || this.pending.size > 0) return this.withLock(kind, fn, control)
    const early = new AbortController()
    const signal = control.signal ? AbortSignal.any([control.signal, early.signal]) : early.signal
    let lock: LockHandle | undefined
    const handle: LockHandle = {
      kind,
      signal,
      get lostError() {
        return lock?.lostError
      },
      verify: async () => {
        await acquiring
        await lock!.verify()
      },
      release: async () => {},
    }
    let run: Promise<T> | undefined
    const acquiring = this.acquire(kind, control, () => {
      this.early = { kind, signal }
      run ??= fn(handle)
      run.catch(() => {})
    })
    try {
      lock = await acquiring
    } catch (e) {
      early.abort(e)
      await run?.catch(() => {})
      throw e
    } finally {
      this.early = undefined
    }
    const held = lock
    const forward = (): void => early.abort(held.signal.reason)
    if (held.signal.aborted) forward()
    else held.signal.addEventListener('abort', forward, { once: true })
    try {
      return await (run ?? fn(handle))
    } catch (e) {
      throw held.lostError ?? e
    } finally {
      held.signal.removeEventListener('abort', forward)
      await held.release()
    }
  }

  /**
   * A hold on the lock of {@link RepositoryLocker.withLockEarly} during its wait for the second look:
   * usable at once (its signal aborts when the early work's does), a hold on the lock once it is confirmed.
   */
  private earlyHold(kind: LockKind, early: { kind: LockKind; signal: AbortSignal }, control: Control): LockHandle | undefined {
    const earlySignal = early.signal
    const acquiring = this.pending.get(early.kind)
    if (!acquiring) return undefined // (confirmed or failed a moment ago: the usual way)
    const confirmed = new AbortController()
    const signal = AbortSignal.any([earlySignal, confirmed.signal, ...(control.signal ? [control.signal] : [])])
    let held: Hold | undefined
    let released = false
    const hold = acquiring.then((h) => {
      h.holds++
      held = new Hold(kind, h, control.signal, () => this.drop(h, control))
      if (released) {
        void held.release() // (released during the wait: the caller did not wait for the lock)
        return held
      }
      const forward = (): void => confirmed.abort(held!.signal.reason)
      if (held.signal.aborted) forward()
      else held.signal.addEventListener('abort', forward, { once: true })
      return held
    })
    hold.catch(() => {})
    return {
      kind,
      signal,
      get lostError() {
        return held?.lostError
      },
      verify: async () => (await hold).verify(),
      release: async () => {
        released = true
        await held?.release()
      },
    }
  }

  /** Releases every lock of this object at once (when the repository is closed). */
  async releaseAll(): Promise<void> {
    await Promise.allSettled(this.pending.values())
    const all = [...this.held.values()]
    this.held.clear()
    await Promise.allSettled(all.map((h) => h.lock.release()))
  }

  private async hold(kind: LockKind, control: Control, onWritten?: () => void): Promise<Held> {
    for (;;) {
      const usable = this.usable(kind)
      if (usable) {
        usable.holds++
        return usable
      }
      const waiting = this.pending.get(kind) ?? (kind === 'shared' ? this.pending.get('exclusive') : undefined)
      if (waiting) {
        // Share the acquisition under way; if it fails, try on our own.
        await waiting.catch(() => {})
        throwIfAborted(control.signal)
        continue
      }
      const acquiring = RepositoryLock.acquire(this.dbe, kind, {
        signal: control.signal,
        onWarning: control.onWarning ?? this.options.onWarning,
        retryLockMs: this.options.retryLockMs,
        timing: this.options.timing,
        onWritten,
      }).then((lock) => {
        const h: Held = { lock, holds: 0 }
        this.held.set(kind, h)
        return h
      })
      this.pending.set(kind, acquiring)
      try {
        const h = await acquiring
        h.holds++
        return h
      } finally {
        this.pending.delete(kind)
      }
    }
  }

  /** A held lock that serves `kind`, not lost. */
  private usable(kind: LockKind): Held | undefined {
    for (const k of kind === 'shared' ? (['exclusive', 'shared'] as const) : (['exclusive'] as const)) {
      const h = this.held.get(k)
      if (h && !h.lock.signal.aborted && !h.lock.isReleased) return h
    }
    return undefined
  }

  private async drop(held: Held, control: Control): Promise<void> {
    if (--held.holds > 0) return
    if (this.held.get(held.lock.kind) === held) this.held.delete(held.lock.kind)
    try {
      await held.lock.release()
    } catch (e) {
      ;(control.onWarning ?? this.options.onWarning)?.(
        `cannot remove lock ${held.lock.id} from ${this.dbe.backend.location()}: ${(e as Error).message}; remove it with "rustic-ts unlock"`,
        e,
      )
    }
  }
}

/** One hold on a shared lock. */
class Hold implements LockHandle {
  readonly signal: AbortSignal
  private readonly callerSignal: AbortSignal | undefined
  private released = false

  constructor(
    readonly kind: LockKind,
    private readonly held: Held,
    callerSignal: AbortSignal | undefined,
    private readonly onRelease: () => Promise<void>,
  ) {
    this.callerSignal = callerSignal
    this.signal = callerSignal ? AbortSignal.any([callerSignal, held.lock.signal]) : held.lock.signal
  }

  get lostError(): RusticError | undefined {
    return this.held.lock.lostError
  }

  verify(): Promise<void> {
    if (this.released) return Promise.reject(new RusticError('Internal', `the ${this.kind} lock was already released`, { code: 'LockLost' }))
    return this.held.lock.verify(this.callerSignal)
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    await this.onRelease()
  }
}

/** The handle given when locking is off. */
function unlockedHandle(kind: LockKind, signal: AbortSignal | undefined): LockHandle {
  return {
    kind,
    signal: signal ?? new AbortController().signal,
    lostError: undefined,
    verify: () => Promise.resolve(throwIfAborted(signal)),
    release: () => Promise.resolve(),
  }
}
