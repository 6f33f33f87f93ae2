import {
  Repository,
  type Credentials,
  type InitOptions,
  type RepositoryBackends,
  type RepositoryOptions,
} from '@rustic-ts/core'
import { backendsFromOptions, loadBackendClasses, type BackendOptions } from './backendsFromOptions.js'
import { defaultCacheFactory } from './defaultCache.js'

/**
 * Opens a repository from repository strings, with the on-disk cache of `@rustic-ts/cache`
 * plugged in unless `noCache` is set: the batteries-included form of `Repository.open`, with the same
 * argument order. Retries of backend calls are reported to `options.onWarning` unless
 * `backend.onWarning` is given. If opening fails (wrong password, no repository), the backends are
 * closed (connections, rclone).
 *
 * ```ts
 * const repo = await openRepository({}, { repository: 'rest:http://user:secret@host:8000/repo' }, { password })
 * ```
 */
export async function openRepository(
  options: RepositoryOptions,
  backend: BackendOptions,
  credentials: Credentials,
): Promise<Repository> {
  await loadBackendClasses([backend.repository, backend.repoHot])
  const backends = backendsFromOptions(withWarnings(backend, options))
  return closingOnError(backends, () => Repository.open(withDefaultCache(options), backends, credentials))
}

/**
 * Creates a repository from repository strings, with the default on-disk cache: the
 * batteries-included form of `Repository.init`, with the same argument order; see {@link openRepository}.
 */
export async function initRepository(
  options: RepositoryOptions,
  backend: BackendOptions,
  credentials: Credentials,
  initOptions: InitOptions = {},
): Promise<Repository> {
  await loadBackendClasses([backend.repository, backend.repoHot])
  const backends = backendsFromOptions(withWarnings(backend, options))
  return closingOnError(backends, () => Repository.init(withDefaultCache(options), backends, credentials, initOptions))
}

/**
 * Adds the default on-disk cache factory to repository options that have none: a {@link CachedBackend}
 * in `<cacheDir>/<repo-id>` (`cacheDir` is the base, as restic's and rustic's `--cache-dir`; default
 * `~/.cache/rustic-ts`), so repositories sharing a base never share entries.
 */
export function withDefaultCache(options: RepositoryOptions): RepositoryOptions {
  if (options.cache || options.noCache) return options
  return { ...options, cache: defaultCacheFactory(options.onWarning) }
}

function withWarnings(backend: BackendOptions, options: RepositoryOptions): BackendOptions {
  return backend.onWarning !== undefined || options.onWarning === undefined ? backend : { ...backend, onWarning: options.onWarning }
}

async function closingOnError(backends: RepositoryBackends, open: () => Promise<Repository>): Promise<Repository> {
  try {
    return await open()
  } catch (err) {
    await Promise.allSettled([backends.repository.close?.(), backends.repoHot?.close?.()])
    throw err
  }
}
