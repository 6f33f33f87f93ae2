import type { SnapshotFile } from '../repofile/index.js'
import { sortSnapshots, type Repository } from '../repository/Repository.js'
import type { SnapshotFilter } from '../repository/SnapshotFilter.js'

/**
 * The snapshots a command works on, oldest first, as restic selects them: with no `specs`, every
 * snapshot passing `filter`; else each one named by a full id, a unique id prefix, `latest` or
 * `latest~N` (those two among the snapshots passing `filter`), each once.
 * @throws RusticError `IdNotFound` or `AmbiguousId` for a spec that names no snapshot or several.
 */
export async function snapshotsFromSpecs(
  repo: Repository,
  specs: readonly string[],
  filter: SnapshotFilter = {},
  signal?: AbortSignal,
): Promise<SnapshotFile[]> {
  if (specs.length === 0) return repo.getSnapshots(filter, { signal })
  const found = new Map<string, SnapshotFile>()
  for (const spec of specs) {
    const snap = await repo.findSnapshot(spec, filter, { signal })
    found.set(snap.id!, snap)
  }
  return sortSnapshots([...found.values()])
}
