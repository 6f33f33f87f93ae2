import { hostname as osHostname } from 'node:os'
import { shortId, type Id } from '../../id/Id.js'
import { goTimeToDate, type LockFile } from '../../repofile/index.js'

/** A lock file found in a repository, with what can be said about it. */
export interface LockInfo {
  /** The lock file's id. */
  id: Id
  /** Its content. */
  lock: LockFile
  /** Its age in milliseconds (from its `time` to now; negative if it lies in the future). */
  ageMs: number
  /** Why it looks stale, or undefined when it looks alive. */
  stale: StaleReason | undefined
}

/** Why a lock looks stale: too old, or made on this host by a process that no longer runs. */
export type StaleReason = 'old' | 'dead-process'

/** What {@link lockInfo} compares a lock with. */
export interface StaleCheck {
  /** Locks older than this are stale (restic: 30 minutes). */
  staleAfterMs: number
  /** Now, in ms since the epoch (default `Date.now()`). */
  now?: number
  /** This host's name (default `os.hostname()`). */
  hostname?: string
  /** Whether a process of this host runs (default {@link processRuns}). */
  processRuns?: (pid: number) => boolean
}

/**
 * A lock's age and staleness as restic judges them: stale when its time is more than `staleAfterMs`
 * ago, or when it was made on this host (same hostname) by a process that no longer runs.
 * Stale locks are reported, never ignored: like restic, rustic-ts removes them only on `unlock`.
 */
export function lockInfo(id: Id, lock: LockFile, check: StaleCheck): LockInfo {
  const now = check.now ?? Date.now()
  const time = goTimeToDate(lock.time).getTime()
  const ageMs = Number.isFinite(time) ? now - time : Number.POSITIVE_INFINITY
  let stale: StaleReason | undefined
  if (ageMs > check.staleAfterMs) stale = 'old'
  else if (lock.hostname === (check.hostname ?? osHostname()) && !(check.processRuns ?? processRuns)(lock.pid)) stale = 'dead-process'
  return { id, lock, ageMs, stale }
}

/**
 * True if a process with this id runs on this machine (signal 0 reaches it, or it exists but belongs to
 * another user). Ids below 1 name no single process and count as not running.
 */
export function processRuns(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid < 1) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * One line naming a lock: kind, process, host, user, creation time (as its writer's clock showed it)
 * and age, lock id, and whether it looks stale. E.g. `an exclusive lock of PID 4242 on host "nas" by
 * backup, made 2026-12-06 11:55:49 (3m12s ago; lock 1a2b3c4d)`.
 * @param staleAfterMs - the stale age the lock was judged by, for the message (default 30 minutes).
 */
export function describeLock(info: LockInfo, staleAfterMs = 30 * 60_000): string {
  const l = info.lock
  const kind = l.exclusive ? 'an exclusive' : 'a shared'
  const self = l.pid === process.pid && l.hostname === osHostname() ? ' (this process)' : ''
  const staleText =
    info.stale === 'old'
      ? `; it looks stale: older than ${formatAge(staleAfterMs)}`
      : info.stale === 'dead-process'
        ? `; it looks stale: process ${l.pid} no longer runs on this host`
        : ''
  return (
    `${kind} lock of PID ${l.pid}${self} on host ${JSON.stringify(l.hostname)} by ${l.username || 'an unknown user'}, ` +
    `made ${l.time.slice(0, 19).replace('T', ' ')} (${formatAge(info.ageMs)} ago; lock ${shortId(info.id)})${staleText}`
  )
}

/** A duration in ms as `45s`, `3m12s`, `2h5m`, `3d4h` (negative ones, from clocks that differ, as `0s`). */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown time'
  const s = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  const two = (a: number, ua: string, b: number, ub: string): string => (b > 0 ? `${a}${ua}${b}${ub}` : `${a}${ua}`)
  if (d > 0) return two(d, 'd', h, 'h')
  if (h > 0) return two(h, 'h', m, 'm')
  if (m > 0) return two(m, 'm', sec, 's')
  return `${sec}s`
}
