import type { WriteBackend } from '../backend/Backend.js'
import { HotColdBackend } from '../backend/HotColdBackend.js'
import { WarmUpBackend } from '../backend/WarmUpBackend.js'
import type { Id } from '../id/Id.js'
import type { RepositoryBackends, RepositoryOptions } from './RepositoryOptions.js'

/** The backend stack of a repository and its warm-up layer (when warm-up is configured). */
export interface ComposedBackend {
  backend: WriteBackend
  warmUp?: WarmUpBackend
}

/**
 * Builds the backend stack a repository works on, as rustic_core does:
 * raw backend -> warm-up (when configured) -> hot/cold (when a hot repository is given) ->
 * cache (once the repository id is known).
 */
export async function composeBackend(
  backends: RepositoryBackends,
  repoId: Id | undefined,
  options: RepositoryOptions,
): Promise<ComposedBackend> {
  let backend: WriteBackend = backends.repository
  let warmUp: WarmUpBackend | undefined
  if (options.warmUp || options.warmUpCommand) {
    warmUp = new WarmUpBackend(backend, {
      warmUpCommand: options.warmUpCommand,
      warmUpBatch: options.warmUpBatch,
      warmUpWaitMs: options.warmUpWaitMs,
      warmUpWaitCommand: options.warmUpWaitCommand,
      warmUpAccess: options.warmUp && !options.warmUpCommand,
      progress: options.progress,
      onWarning: options.onWarning,
    })
    backend = warmUp
  }
  if (backends.repoHot) backend = new HotColdBackend(backend, backends.repoHot)
  if (repoId !== undefined && options.cache && !options.noCache) {
    backend = await options.cache(backend, repoId, options.cacheDir)
  }
  return { backend, warmUp }
}
