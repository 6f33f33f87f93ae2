import type { Id } from '../id/Id.js'
import type { ReadBackend, WriteBackend } from './Backend.js'
import type { FileType } from './FileType.js'

/**
 * A backend decorator that keeps local copies of repository files (an on-disk cache), as `check`
 * sees it: it reads the repository below the cache and compares the cache's copies with it.
 * `@rustic-ts/cache`'s `CachedBackend` implements it; a custom cache can too.
 */
export interface CacheLayer extends WriteBackend {
  /** The backend below the cache: reads through it never touch the cache. */
  readonly inner: WriteBackend
  /** Where the cache is (a directory), for messages. */
  cacheLocation(): string
  /** Ids and sizes of the cached copies of one file type. */
  listCached(type: FileType): Promise<Map<Id, number>>
  /** A cached copy's bytes, or `undefined` if there is none. */
  readCached(type: FileType, id: Id): Promise<Uint8Array | undefined>
  /** Replaces a cached copy with `data` (the repository's verified bytes). */
  writeCached(type: FileType, id: Id, data: Uint8Array): Promise<void>
  /** Removes a cached copy (a missing one is fine). */
  removeCached(type: FileType, id: Id): Promise<void>
}

/** The backend as a {@link CacheLayer} if it is one, else `undefined`. */
export function asCacheLayer(backend: ReadBackend): CacheLayer | undefined {
  const b = backend as Partial<CacheLayer>
  const isLayer =
    typeof b.listCached === 'function' &&
    typeof b.readCached === 'function' &&
    typeof b.writeCached === 'function' &&
    typeof b.removeCached === 'function' &&
    typeof b.cacheLocation === 'function' &&
    typeof b.inner === 'object' &&
    b.inner !== null
  return isLayer ? (backend as CacheLayer) : undefined
}
