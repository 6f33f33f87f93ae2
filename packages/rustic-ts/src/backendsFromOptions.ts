import { resolve } from 'node:path'
import { RetryBackend, RusticError, type RepositoryBackends, type WriteBackend } from '@rustic-ts/core'
import { LocalBackend } from '@rustic-ts/backend-local'
import { RestBackend } from '@rustic-ts/backend-rest'
import { RcloneBackend } from '@rustic-ts/backend-rclone'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'

/** Where and how to reach a repository, as given on the command line or in a profile. */
export interface BackendOptions {
  /** The repository: a path, `local:PATH`, `rest:URL`, `rclone:REMOTE:PATH` or `opendal:SCHEME`. */
  repository: string
  /** Optional hot repository, same syntax. */
  repoHot?: string
  /** Backend options: `opendal:` service options (root, bucket, endpoint, ...), `timeout`, `retries`, ... */
  options?: Record<string, string>
}

/**
 * Turns repository strings into backends: a local path (or `local:PATH`), `rest:http[s]://[user:pass@]host:port/path`,
 * `rclone:REMOTE:PATH` or `opendal:SCHEME` (service options from `options`). Network backends get retries.
 */
export function backendsFromOptions(opts: BackendOptions): RepositoryBackends {
  const options = opts.options ?? {}
  const repository = backendFromString(opts.repository, options)
  return opts.repoHot ? { repository, repoHot: backendFromString(opts.repoHot, options) } : { repository }
}

/** One backend from one repository string; see {@link backendsFromOptions}. */
export function backendFromString(repo: string, options: Record<string, string> = {}): WriteBackend {
  if (repo === '') throw new RusticError('Configuration', 'no repository given: use -r/--repo or RUSTIC_REPOSITORY', { code: 'NoRepository' })
  const retries = options['retries'] === undefined ? 5 : Number(options['retries'])
  const withRetry = (b: WriteBackend): WriteBackend => (retries > 0 ? new RetryBackend(b, { maxRetries: retries }) : b)
  const scheme = /^([a-z0-9]+):/.exec(repo)?.[1]
  switch (scheme) {
    case 'local':
      return new LocalBackend(resolve(repo.slice('local:'.length)))
    case 'rest': {
      const timeoutMs = options['timeout'] === undefined ? undefined : Number(options['timeout']) * 1000
      return withRetry(new RestBackend(repo.slice('rest:'.length), { timeoutMs, caFile: options['cacert'] }))
    }
    case 'rclone':
      return withRetry(new RcloneBackend(repo.slice('rclone:'.length)))
    case 'opendal': {
      const { retries: _r, timeout: _t, ...service } = options
      return withRetry(new OpenDalBackend(repo.slice('opendal:'.length), service))
    }
    case undefined:
      return new LocalBackend(resolve(repo))
    default:
      throw new RusticError(
        'Configuration',
        `unsupported repository type "${scheme}:": use a path, local:, rest:, rclone: or opendal: (prefix a local path containing ':' with ./)`,
        { code: 'UnsupportedBackend' },
      )
  }
}
