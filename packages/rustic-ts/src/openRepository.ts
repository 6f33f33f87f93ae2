import { CachedBackend, defaultCacheDir } from '@rustic-ts/cache'
import { Repository, type Credentials, type RepositoryOptions } from '@rustic-ts/core'
import { backendsFromOptions, type BackendOptions } from './backendsFromOptions.js'

/**
 * Opens a repository from repository strings, with the on-disk cache of `@rustic-ts/cache`
 * plugged in unless `noCache` is set (the batteries-included form of `Repository.open`).
 */
export async function openRepository(
  backend: BackendOptions,
  credentials: Credentials,
  options: RepositoryOptions = {},
): Promise<Repository> {
  return Repository.open(withDefaultCache(options), backendsFromOptions(backend), credentials)
}

/** Adds the default on-disk cache factory to repository options that have none. */
export function withDefaultCache(options: RepositoryOptions): RepositoryOptions {
  if (options.cache || options.noCache) return options
  return {
    ...options,
    cache: (b, repoId, cacheDir) =>
      new CachedBackend(b, { cacheDir: cacheDir ?? defaultCacheDir(repoId), onWarning: options.onWarning }),
  }
}
