import pLimit from 'p-limit'
import { isNotFound } from '../../backend/BackendError.js'
import { throwIfAborted } from '../../error/RusticError.js'
import { shortId, type Id } from '../../id/Id.js'
import type { SnapshotFile } from '../../repofile/index.js'
import { refuseAppendOnly } from '../../repository/refuseAppendOnly.js'
import type { Repository } from '../../repository/Repository.js'
import type { Control } from '../../progress/Control.js'

/** One change to the repository's snapshot files: save a new snapshot, remove one, or both (a rewrite). */
export interface SnapshotChange {
  /** A snapshot to save (its `id` is ignored and set to the new id). */
  save?: SnapshotFile
  /** A snapshot file to remove (after `save` is stored). */
  remove?: Id
}

/** What a {@link SnapshotChange} did. */
export interface CommittedChange {
  /** The id the saved snapshot got. */
  saved?: Id
  /** The removed snapshot (also when it was already gone). */
  removed?: Id
}

/**
 * Carries out changes to snapshot files: the one place where `forget`, `deleteSnapshots` and
 * `modifySnapshots` write or remove them. Refuses an append-only repository first (code `AppendOnly`,
 * nothing touched). Each change saves its new snapshot before removing the old file, so an interruption
 * leaves at most a duplicate, never a lost snapshot. A file already gone counts as removed (with a warning).
 * Holds the repository's exclusive lock while it writes, as restic's `forget` and `tag` do.
 * @param action - what is done, for messages (`remove 3 snapshots`).
 */
export async function commitSnapshotChanges(
  repo: Repository,
  changes: readonly SnapshotChange[],
  action: string,
  control: Control = {},
): Promise<CommittedChange[]> {
  if (changes.length === 0) return []
  refuseAppendOnly(repo.config, action)
  // restic takes the exclusive lock to change snapshots (forget, tag): no other client works meanwhile.
  const { onWarning, progress: progressFactory } = repo.control(control)
  return repo.withLock('exclusive', async (lock) => {
    const { signal } = lock
    await lock.verify()
    const progress = progressFactory('counter', action)
    progress.setLength(changes.length)
    const limit = pLimit(repo.options.concurrency)
    try {
      return await Promise.all(
        changes.map((change) =>
          limit(async (): Promise<CommittedChange> => {
            throwIfAborted(signal)
            const done: CommittedChange = {}
            if (change.save) {
              const copy = { ...change.save }
              delete copy.id
              done.saved = await repo.saveSnapshot(copy, { signal })
            }
            if (change.remove) {
              throwIfAborted(signal)
              try {
                await repo.backend.remove('snapshot', change.remove, true, { signal })
              } catch (e) {
                if (!isNotFound(e)) throw e
                onWarning(`snapshot ${shortId(change.remove)} was already removed`, e)
              }
              done.removed = change.remove
            }
            progress.inc(1)
            return done
          }),
        ),
      )
    } finally {
      limit.clearQueue()
      progress.finish()
    }
  }, control)
}
