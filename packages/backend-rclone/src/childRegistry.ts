import type { ChildProcess } from 'node:child_process'

const live = new Set<ChildProcess>()

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGTERM')
    } catch {
      // already gone
    }
  }
  live.clear()
  process.off('exit', killAll)
}

/**
 * Remembers a child process to be sent `SIGTERM` when this process exits (one `process.on('exit')`
 * listener for all children, installed while any is registered).
 */
export function registerChild(child: ChildProcess): void {
  if (live.size === 0) process.on('exit', killAll)
  live.add(child)
}

/** Forgets a child registered with {@link registerChild} (after it exited or was stopped). */
export function unregisterChild(child: ChildProcess): void {
  if (!live.delete(child)) return
  if (live.size === 0) process.off('exit', killAll)
}

/** How many registered children are alive (for tests). */
export function registeredChildCount(): number {
  return live.size
}
