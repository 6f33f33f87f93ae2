/** Something holding a lock file that must be removed before the process ends. */
interface Releasable {
  release(): Promise<void>
}

/** Every lock this process holds (all repositories). */
const held = new Set<Releasable>()

/** Records a lock as held (done by `RepositoryLock`). */
export function registerLock(lock: Releasable): void {
  held.add(lock)
}

/** Forgets a released lock. */
export function unregisterLock(lock: Releasable): void {
  held.delete(lock)
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
