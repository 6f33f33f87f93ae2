import type { WriteBackend } from '../backend/Backend.js'
import { HotColdBackend } from '../backend/HotColdBackend.js'
import type { Id } from '../id/Id.js'
import type { RepositoryBackends, RepositoryOptions } from './RepositoryOptions.js'

/**
 * Builds the backend stack a repository works on, as rustic_core does:
 * raw backend -> hot/cold (when a hot repository is given) -> cache (once the repository id is known).
 */
export async function composeBackend(
  backends: RepositoryBackends,
  repoId: Id | undefined,
  options: RepositoryOptions,
): Promise<WriteBackend> {
  let backend: WriteBackend = backends.repository
  if (backends.repoHot) backend = new HotColdBackend(backend, backends.repoHot)
  if (repoId !== undefined && options.cache && !options.noCache) {
    backend = await options.cache(backend, repoId, options.cacheDir)
  }
  return backend
}
