import { CachedBackend, defaultCacheDir } from '@rustic-ts/cache'
import type { CacheFactory, WarningHandler } from '@rustic-ts/core'

/**
 * The default cache factory: a {@link CachedBackend} in `<cacheDir>/<repo-id>` (`cacheDir` is the base, as
 * restic's and rustic's `--cache-dir`; default `~/.cache/rustic-ts`). In a module of its own so that the CLI
 * can import `@rustic-ts/cache` only when a cache is used.
 */
export function defaultCacheFactory(onWarning: WarningHandler | undefined): CacheFactory {
  return (b, repoId, cacheDir) =>
    new CachedBackend(b, {
      cacheDir: cacheDir === undefined ? defaultCacheDir(repoId) : defaultCacheDir(repoId, cacheDir),
      onWarning,
    })
}
