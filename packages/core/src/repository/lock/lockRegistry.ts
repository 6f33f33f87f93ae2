/** Something holding a lock file that must be removed before the process ends. */
interface Releasable {
  release(): Promise<void>
}

/** Every lock this process holds (all repositories). */
const held = new Set<Releasable>()

/**
 * restic 0.14 tells whether the process of a lock made on its host still runs by sending it `SIGHUP`
 * (`restic unlock`, and stale checks); restic itself ignores that signal. A Node process would die of
 * it, so while this process holds a lock, `SIGHUP` is ignored too.
 */
const ignoreHangup = (): void => {}

/** Records a lock as held (done by `RepositoryLock`). */
export function registerLock(lock: Releasable): void {
  if (held.size === 0) process.on('SIGHUP', ignoreHangup)
  held.add(lock)
}

/** Forgets a released lock. */
export function unregisterLock(lock: Releasable): void {
  if (held.delete(lock) && held.size === 0) process.off('SIGHUP', ignoreHangup)
}

/** How many locks this process holds. */
export function heldLockCount(): number {
  return held.size
}

/**
 * Removes every lock this process holds, in every repository, as restic does when it is interrupted.
 * For signal handlers (`SIGINT`, `SIGTERM`) of programs about to exit: the operations using the locks
 * are not stopped, so call it only when the process ends right after. Failures are ignored.
 */
export async function releaseAllLocks(): Promise<void> {
  await Promise.allSettled([...held].map((l) => l.release()))
}
