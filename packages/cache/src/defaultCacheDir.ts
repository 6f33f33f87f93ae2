import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { RusticError } from '@rustic-ts/core'

/**
 * The base directory of rustic-ts caches: `$XDG_CACHE_HOME/rustic-ts` if `XDG_CACHE_HOME` is set to an
 * absolute path, else `~/.cache/rustic-ts`.
 * @param env - the environment to read (default `process.env`).
 */
export function defaultCacheBase(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME
  const base = xdg !== undefined && xdg !== '' && isAbsolute(xdg) ? xdg : join(homedir(), '.cache')
  return join(base, 'rustic-ts')
}

/**
 * The cache directory of one repository: `$XDG_CACHE_HOME/rustic-ts/<repo-id>` or
 * `~/.cache/rustic-ts/<repo-id>`, or `<base>/<repo-id>` when a base (e.g. `--cache-dir`) is given.
 * @param repoId - the repository id (from its config); must be a plain file name.
 * @param base - the cache base directory; default {@link defaultCacheBase}.
 */
export function defaultCacheDir(repoId: string, base: string = defaultCacheBase()): string {
  if (!/^[A-Za-z0-9._-]+$/.test(repoId) || repoId === '.' || repoId === '..') {
    throw new RusticError('InvalidInput', `invalid repository id for a cache directory: "${repoId.slice(0, 80)}"`, {
      code: 'InvalidId',
    })
  }
  return join(base, repoId)
}
