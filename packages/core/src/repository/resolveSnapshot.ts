import type { CallOptions } from '../backend/Backend.js'
import { RusticError } from '../error/RusticError.js'
import { findIdByPrefix, isId, type Id } from '../id/Id.js'
import { isNotFound } from '../backend/BackendError.js'
import type { Control } from '../progress/Control.js'
import type { SnapshotFile } from '../repofile/index.js'
import { loadSnapshots, unreadableSnapshotWarning } from './loadSnapshots.js'
import { sortSnapshots, type Repository } from './Repository.js'
import { isFilterSet, matchesFilter, type SnapshotFilter } from './SnapshotFilter.js'

/** `latest` or `latest~N` (N in group 1). */
export const LATEST = /^latest(?:~(\d+))?$/

/** Call options of snapshot lookups: cancellation, and where warnings about unreadable snapshot files go. */
export type ResolveOptions = CallOptions & Control

/**
 * Resolves `latest`, `latest~N`, a full id or a unique id prefix to a snapshot.
 * `latest` forms only consider snapshots passing `filter` that can be read (the others are skipped with a
 * warning). A snapshot file given by its id or prefix that cannot be read fails with its error.
 */
export async function resolveSnapshot(
  repo: Repository,
  spec: string,
  filter: SnapshotFilter,
  options?: ResolveOptions,
): Promise<SnapshotFile> {
  const latest = LATEST.exec(spec)
  if (latest) return pickLatest(await repo.getSnapshots(filter, options), Number(latest[1] ?? 0), spec, filter)
  if (isId(spec.toLowerCase())) {
    try {
      return await repo.getSnapshot(spec.toLowerCase() as Id, options)
    } catch (e) {
      if (isNotFound(e)) throw new RusticError('InvalidInput', `no snapshot with id ${spec}`, { code: 'IdNotFound', cause: e })
      throw e
    }
  }
  const id = findIdByPrefix(await repo.snapshotIds(options), spec, 'snapshot')
  return repo.getSnapshot(id, options)
}

/**
 * Resolves several snapshot strings at once (each as {@link resolveSnapshot} does), listing and reading the
 * repository's snapshots only once when any string is `latest~N` or an id prefix. The result keeps the
 * order of `specs` without repeats.
 */
export async function resolveSnapshots(
  repo: Repository,
  specs: readonly string[],
  filter: SnapshotFilter,
  options?: ResolveOptions,
): Promise<SnapshotFile[]> {
  if (specs.length <= 1) return Promise.all(specs.map((s) => resolveSnapshot(repo, s, filter, options)))
  const needsAll = specs.some((s) => LATEST.test(s) || !isId(s.toLowerCase()))
  if (!needsAll) {
    const unique = [...new Set(specs.map((s) => s.toLowerCase()))]
    return Promise.all(unique.map((s) => resolveSnapshot(repo, s, filter, options)))
  }
  const { snapshots, unreadable } = await loadSnapshots(repo, options)
  const all = sortSnapshots(snapshots)
  const byId = new Map(all.map((s) => [s.id!, s]))
  const filtered = specs.some((s) => LATEST.test(s)) ? all.filter((s) => matchesFilter(s, filter)) : []
  if (specs.some((s) => LATEST.test(s))) {
    const { onWarning } = repo.control(options)
    for (const [id, err] of unreadable) onWarning(unreadableSnapshotWarning(id, err), err)
  }
  const out = new Map<Id, SnapshotFile>()
  for (const spec of specs) {
    const latest = LATEST.exec(spec)
    let snap: SnapshotFile
    if (latest) snap = pickLatest(filtered, Number(latest[1] ?? 0), spec, filter)
    else {
      const id = findIdByPrefix([...byId.keys(), ...unreadable.keys()], spec, 'snapshot')
      const err = unreadable.get(id)
      if (err) throw err
      snap = byId.get(id)!
    }
    out.set(snap.id!, snap)
  }
  return [...out.values()]
}

/**
 * The snapshots a command works on, oldest first: the ones `specs` names (as {@link resolveSnapshots}),
 * or with no `specs` every snapshot passing `filter` (an unreadable one is left out with a warning).
 */
export async function resolveSnapshotsOrAll(
  repo: Repository,
  specs: readonly string[],
  filter: SnapshotFilter = {},
  options?: ResolveOptions,
): Promise<SnapshotFile[]> {
  if (specs.length === 0) return repo.getSnapshots(filter, options)
  return sortSnapshots(await resolveSnapshots(repo, specs, filter, options))
}

/**
 * The `n`-th snapshot before the newest of `snaps` (sorted oldest first, passing `filter`).
 * @throws RusticError `IdNotFound` naming `spec` when there are not so many.
 */
export function pickLatest(snaps: readonly SnapshotFile[], n: number, spec: string, filter: SnapshotFilter): SnapshotFile {
  const snap = snaps[snaps.length - 1 - n]
  if (!snap) {
    const why = snaps.length === 0 ? 'there are no snapshots' : `there are only ${snaps.length} snapshots`
    throw new RusticError('InvalidInput', `no snapshot "${spec}": ${why}${isFilterSet(filter) ? ' matching the filter' : ''}`, {
      code: 'IdNotFound',
    })
  }
  return snap
}
