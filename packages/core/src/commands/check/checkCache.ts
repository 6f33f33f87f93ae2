import pLimit from 'p-limit'
import type { ReadBackend } from '../../backend/Backend.js'
import type { CacheLayer } from '../../backend/CacheLayer.js'
import { fileName } from '../../backend/DecryptBackend.js'
import type { FileType } from '../../backend/FileType.js'
import { throwIfAborted } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import type { Progress } from '../../progress/Progress.js'
import type { FindingCollector } from './CheckFinding.js'

/** The file types a cache holds copies of. */
export const CACHED_TYPES: readonly FileType[] = ['snapshot', 'index', 'key', 'pack']

/**
 * Compares every cached copy with the repository: a copy must be of a file the repository has, with the
 * same size, and hash to its id (then it is the repository's file byte for byte, since files are named
 * by their hash). A damaged copy is reported and replaced with the repository's file when that one is
 * sound, else removed; a copy of a file the repository no longer has is removed.
 * @param listed - the repository's files by type (id -> size), as listed below the cache.
 * @param repository - reads the repository below the cache.
 */
export async function checkCache(
  cache: CacheLayer,
  repository: ReadBackend,
  listed: ReadonlyMap<FileType, ReadonlyMap<Id, number>>,
  findings: FindingCollector,
  options: { concurrency: number; signal?: AbortSignal; progress: Progress },
): Promise<void> {
  const where = cache.cacheLocation()
  const limit = pLimit(options.concurrency)
  const jobs: Array<Promise<void>> = []
  for (const type of CACHED_TYPES) {
    const inRepo = listed.get(type) ?? new Map<Id, number>()
    for (const [id, size] of await cache.listCached(type)) {
      jobs.push(
        limit(async () => {
          throwIfAborted(options.signal)
          const file = { type, id }
          const repoSize = inRepo.get(id)
          if (repoSize === undefined) {
            const how = await removeCopy(cache, type, id)
            findings.add('cacheStale', `cached copy of ${fileName(type, id)} in ${where} is not in the repository: ${how}`, { file })
            return
          }
          const data = size === repoSize ? await cache.readCached(type, id) : undefined
          if (data !== undefined && data.length === repoSize && hashId(data) === id) return
          const how = await repairCopy(cache, repository, type, id, options.signal)
          findings.add('cacheDamaged', `cached copy of ${fileName(type, id)} in ${where} does not match the repository: ${how}`, { file })
        }).finally(() => options.progress.inc(1)),
      )
    }
  }
  options.progress.setLength(jobs.length)
  try {
    await Promise.all(jobs)
  } finally {
    limit.clearQueue()
  }
  options.progress.finish()
}

/** Replaces a damaged cached copy with the repository's file if that one is sound, else removes it; says which. */
async function repairCopy(cache: CacheLayer, repository: ReadBackend, type: FileType, id: Id, signal?: AbortSignal): Promise<string> {
  try {
    const good = await repository.readFull(type, id, { signal })
    if (hashId(good) === id) {
      await cache.writeCached(type, id, good)
      return "replaced it with the repository's copy"
    }
  } catch {
    // the repository's own copy is reported by the other checks; drop the cached one
  }
  return removeCopy(cache, type, id)
}

async function removeCopy(cache: CacheLayer, type: FileType, id: Id): Promise<string> {
  try {
    await cache.removeCached(type, id)
    return 'removed it from the cache'
  } catch (e) {
    return `could not remove it from the cache: ${(e as Error).message}`
  }
}
