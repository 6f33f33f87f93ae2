import { z } from 'zod'
import { isNotFound } from '../backend/BackendError.js'
import { throwIfAborted } from '../error/RusticError.js'
import type { Control } from '../progress/Control.js'
import type { Repository } from '../repository/Repository.js'
import { lockInfo, readLocks, type LockInfo } from '../repository/lock/index.js'
import { parseOptions } from '../util/parseOptions.js'

/** Options of `Repository.unlock` (restic's `unlock`), with defaults. */
export const UnlockOptionsSchema = z.object({
  /** Remove every lock, not only stale ones (restic's `--remove-all`): only when no other client is running. */
  removeAll: z.boolean().default(false),
})

/** Options of `Repository.unlock`; see {@link UnlockOptionsSchema}. */
export type UnlockOptions = z.input<typeof UnlockOptionsSchema>

/** What `Repository.unlock` did. */
export interface UnlockResult {
  /** Locks removed (with `removeAll`, unreadable lock files are removed too and are not listed here). */
  removed: LockInfo[]
  /** Number of lock files removed. */
  removedFiles: number
  /** Locks left in place because they do not look stale. */
  kept: LockInfo[]
}

/**
 * Removes stale locks, as restic's `unlock` does: locks older than 30 minutes, and locks made on this
 * host by processes that no longer run. With `removeAll`, removes every lock file, readable or not.
 * Takes no lock itself.
 */
export async function unlock(
  repo: Repository,
  options: UnlockOptions = {},
  control: Control = {},
): Promise<UnlockResult> {
  const opts = parseOptions(UnlockOptionsSchema, options, 'unlock options')
  const { signal, onWarning } = repo.control(control)
  const backend = repo.dbe.backend
  const result: UnlockResult = { removed: [], removedFiles: 0, kept: [] }
  const remove = async (id: LockInfo['id']): Promise<boolean> => {
    throwIfAborted(signal)
    try {
      await backend.remove('lock', id, false, { signal })
      return true
    } catch (e) {
      if (isNotFound(e)) return false // removed meanwhile (released or refreshed)
      throw e
    }
  }
  const now = Date.now()
  const locks = await readLocks(repo.dbe, { signal, onWarning })
  for (const { id, lock } of locks) {
    const info = lockInfo(id, lock, { staleAfterMs: 30 * 60_000, now })
    if (!opts.removeAll && !info.stale) {
      result.kept.push(info)
      continue
    }
    if (await remove(id)) {
      result.removed.push(info)
      result.removedFiles++
    }
  }
  if (opts.removeAll) {
    const readable = new Set(locks.map((l) => l.id))
    for (const id of await backend.list('lock', { signal })) {
      if (!readable.has(id) && (await remove(id))) result.removedFiles++
    }
  }
  return result
}
