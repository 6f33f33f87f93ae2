import { findIdByPrefix, type Id } from '../id/Id.js'
import type { SnapshotFile } from '../repofile/index.js'
import { sortSnapshots } from '../repository/Repository.js'
import { LATEST, pickLatest } from '../repository/resolveSnapshot.js'
import { matchesFilter, type SnapshotFilter } from '../repository/SnapshotFilter.js'

/** The snapshot ids named by `specs` (full ids or unique prefixes among `ids`; `latest[~N]` is left out). */
export function namedSnapshotIds(ids: readonly Id[], specs: readonly string[]): Set<Id> {
  const named = new Set<Id>()
  for (const spec of specs) if (!LATEST.test(spec)) named.add(findIdByPrefix(ids, spec, 'snapshot'))
  return named
}

/**
 * Picks snapshots among those read (`snaps`), oldest first: with no `specs`, all passing the filter; else
 * the ones named by id or prefix (among `ids`, the listed snapshot files), and `latest` / `latest~N`
 * among those passing the filter. A named snapshot that could not be read is left out.
 * @throws RusticError `IdNotFound` for a `latest~N` that does not exist, `AmbiguousId` for an ambiguous prefix.
 */
export function selectSnapshots(
  snaps: readonly SnapshotFile[],
  ids: readonly Id[],
  specs: readonly string[],
  filter?: SnapshotFilter,
): SnapshotFile[] {
  const passing = sortSnapshots(snaps.filter((s) => matchesFilter(s, filter)))
  if (specs.length === 0) return passing
  const named = namedSnapshotIds(ids, specs)
  const out = new Map<Id, SnapshotFile>()
  for (const s of snaps) if (named.has(s.id!)) out.set(s.id!, s)
  for (const spec of specs) {
    const latest = LATEST.exec(spec)
    if (!latest) continue
    const s = pickLatest(passing, Number(latest[1] ?? 0), spec, filter ?? {})
    out.set(s.id!, s)
  }
  return sortSnapshots([...out.values()])
}
