import type { WriteBackend } from '../../backend/Backend.js'
import { asCacheLayer, type CacheLayer } from '../../backend/CacheLayer.js'
import { CloseGuardBackend } from '../../backend/CloseGuardBackend.js'
import { HotColdBackend } from '../../backend/HotColdBackend.js'

/** The parts of a repository's backend stack that `check` reads separately. */
export interface BackendLayers {
  /** The repository below the cache (hot/cold when there is a hot repository): what `check` reads. */
  repository: WriteBackend
  /** Where every pack is: the cold repository, or the repository itself. */
  packs: WriteBackend
  /** The hot repository, if any. */
  hot?: WriteBackend
  /** The cache, if the repository was opened with one. */
  cache?: CacheLayer
}

/** Takes a repository's composed backend apart: the close guard (outermost), the cache, then hot/cold, then the rest. */
export function backendLayers(composed: WriteBackend): BackendLayers {
  const backend = composed instanceof CloseGuardBackend ? composed.inner : composed
  const cache = asCacheLayer(backend)
  const repository = cache ? cache.inner : backend
  if (repository instanceof HotColdBackend) return { repository, packs: repository.cold, hot: repository.hot, cache }
  return { repository, packs: repository, cache }
}
