import { streamSnapshotFiles } from '../backend/streamRepoFiles.js'
import { isRusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { Control } from '../progress/Control.js'
import { type SnapshotFile } from '../repofile/index.js'
import type { Repository } from './Repository.js'

/** Every snapshot file of a repository, read: those that could be read and those that could not. */
export interface LoadedSnapshots {
  /** The snapshots read, in no particular order. */
  snapshots: SnapshotFile[]
  /** Snapshot files that could not be read, decrypted or parsed, with the error. */
  unreadable: Map<Id, Error>
}

/**
 * Reads every snapshot file, `concurrency` at a time. A file that cannot be read, decrypted or parsed does
 * not stop the others (restic warns and carries on): it is listed in `unreadable`. An abort still fails.
 */
export async function loadSnapshots(repo: Repository, control: Control = {}): Promise<LoadedSnapshots> {
  const { signal, progress } = repo.control(control)
  const result: LoadedSnapshots = { snapshots: [], unreadable: new Map() }
  const p = progress('counter', 'reading snapshots')
  const ids = await repo.snapshotIds({ signal })
  p.setLength(ids.length)
  let aborted: unknown
  for await (const s of streamSnapshotFiles(repo.dbe, {
    signal,
    ids,
    concurrency: repo.options.concurrency,
    onError: (id, err) => {
      if (isRusticError(err, 'Aborted')) aborted ??= err
      else result.unreadable.set(id, err instanceof Error ? err : new Error(String(err)))
      p.inc(1)
    },
  })) {
    p.inc(1)
    result.snapshots.push(s)
  }
  p.finish()
  if (aborted !== undefined) throw aborted
  return result
}

/** The warning for a snapshot file that could not be read. */
export function unreadableSnapshotWarning(id: Id, err: Error): string {
  return `skipping snapshot ${id}: it cannot be read (${err.message})`
}
