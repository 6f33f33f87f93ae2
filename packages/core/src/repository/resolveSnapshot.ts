import type { CallOptions } from '../backend/Backend.js'
import { RusticError } from '../error/RusticError.js'
import { findIdByPrefix, isId, type Id } from '../id/Id.js'
import { isNotFound } from '../backend/BackendError.js'
import type { SnapshotFile } from '../repofile/index.js'
import type { Repository } from './Repository.js'
import type { SnapshotFilter } from './SnapshotFilter.js'

/**
 * Resolves `latest`, `latest~N`, a full id or a unique id prefix to a snapshot.
 * `latest` forms only consider snapshots passing `filter`.
 */
export async function resolveSnapshot(
  repo: Repository,
  spec: string,
  filter: SnapshotFilter,
  options?: CallOptions,
): Promise<SnapshotFile> {
  const latest = /^latest(?:~(\d+))?$/.exec(spec)
  if (latest) {
    const n = Number(latest[1] ?? 0)
    const snaps = await repo.getSnapshots(filter, options)
    const snap = snaps[snaps.length - 1 - n]
    if (!snap) {
      const why = snaps.length === 0 ? 'there are no snapshots' : `there are only ${snaps.length} snapshots`
      throw new RusticError('InvalidInput', `no snapshot "${spec}": ${why}${hasFilter(filter) ? ' matching the filter' : ''}`, {
        code: 'IdNotFound',
      })
    }
    return snap
  }
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

function hasFilter(f: SnapshotFilter): boolean {
  return Object.values(f).some((v) => Array.isArray(v) && v.length > 0)
}
