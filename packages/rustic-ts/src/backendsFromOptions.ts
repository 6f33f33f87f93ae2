import { resolve } from 'node:path'
import { LayoutChoiceSchema, RetryBackend, RusticError, type RepositoryBackends, type WarningHandler, type WriteBackend } from '@rustic-ts/core'
import { parseDuration, splitCommandLine } from '@rustic-ts/core/internal'
import type { LocalBackend, LocalBackendOptions } from '@rustic-ts/backend-local'
import type { RestBackend, RestBackendOptions } from '@rustic-ts/backend-rest'
import type { RcloneBackend, RcloneBackendOptions } from '@rustic-ts/backend-rclone'
import type { OpenDalBackend } from '@rustic-ts/backend-opendal'

/** The backend classes repository strings are turned into. */
export interface BackendClasses {
  LocalBackend: typeof LocalBackend
  RestBackend: typeof RestBackend
  RcloneBackend: typeof RcloneBackend
  OpenDalBackend: typeof OpenDalBackend
}

const classes: Partial<BackendClasses> = {}

/**
 * Makes backend classes known to {@link backendsFromOptions}. Importing `rustic-ts` registers all of them;
 * the CLI instead loads only the one it needs with {@link loadBackendClasses}, which starts faster.
 */
export function registerBackendClasses(c: Partial<BackendClasses>): void {
  Object.assign(classes, c)
}

/** Imports (and registers) the backend packages that these repository strings need. */
export async function loadBackendClasses(repos: Array<string | undefined>): Promise<void> {
  for (const repo of repos) {
    if (repo === undefined || repo === '') continue
    switch (schemeOf(repo)) {
      case 'local':
        classes.LocalBackend ??= (await import('@rustic-ts/backend-local')).LocalBackend
        break
      case 'rest':
        classes.RestBackend ??= (await import('@rustic-ts/backend-rest')).RestBackend
        break
      case 'rclone':
        classes.RcloneBackend ??= (await import('@rustic-ts/backend-rclone')).RcloneBackend
        break
      case 'opendal':
        classes.OpenDalBackend ??= (await import('@rustic-ts/backend-opendal')).OpenDalBackend
        break
    }
  }
}

function backendClass<K extends keyof BackendClasses>(name: K): BackendClasses[K] {
  const c = classes[name]
  if (!c) throw new RusticError('Internal', `${name} is not loaded: import 'rustic-ts' or call loadBackendClasses first`, { code: 'BackendNotLoaded' })
  return c as BackendClasses[K]
}

/** Where and how to reach a repository, as given on the command line or in a profile. */
export interface BackendOptions {
  /** The repository: a path, `local:PATH`, `rest:URL`, `rclone:REMOTE:PATH` or `opendal:SCHEME`. */
  repository: string
  /** Optional hot repository (everything but data packs), same syntax. */
  repoHot?: string
  /**
   * Backend options for both repositories (see {@link BACKEND_OPTION_KEYS}): `retries`, `timeout`,
   * `cacert`, ... and, for `opendal:`, the service's options (`root`, `bucket`, `endpoint`, ...).
   */
  options?: Record<string, string>
  /** Options for the hot repository only; they override `options` (rustic's `options-hot`). */
  optionsHot?: Record<string, string>
  /** Options for the (cold) repository only; they override `options` (rustic's `options-cold`). */
  optionsCold?: Record<string, string>
  /** Receives a message before each retry of a failed backend call (no secrets in it). */
  onWarning?: WarningHandler
}

/** The backend kinds a repository string can name. */
export type BackendScheme = 'local' | 'rest' | 'rclone' | 'opendal'

/**
 * The options each backend kind understands (keys are case-insensitive; `_` and `-` are the same).
 * `opendal:` takes every other key as a service option (`root`, `bucket`, `endpoint`, `retry`, ...).
 *
 * - `retries`: at most this many retries of a call failing with a transient error (core's {@link RetryBackend},
 *   exponential backoff); by default `rest:`, `rclone:` and `opendal:` retry for up to `retry-timeout`
 *   without a count limit, local paths do not retry; `0` or `off` turns retries off, `on` turns them on.
 *   `retry` is the same for `rest:` and `rclone:` (rustic's name); for `opendal:`, `retry` is opendal's own
 *   retry layer (off unless given).
 * - `retry-timeout`: how long a call may keep retrying (a duration: `90s`, `10m`); default 5 minutes, so
 *   that an outage of a minute or two is survived.
 * - `timeout`: idle timeout of one request (`rest:`, `rclone:`): seconds, or a duration like `500ms`, `30s`,
 *   `10m`, `1h`. Default 2 minutes.
 * - `connect-timeout`: TCP/TLS connect timeout (`rest:`), a duration. Default 30 s.
 * - `cacert`: PEM file of CA certificates to trust (`rest:` over https).
 * - `insecure-tls`: `true` to skip certificate verification (`rest:`).
 * - `connections`: connections / requests in flight (`rest:`, `rclone:` default 5; `opendal:` calls, default 32).
 * - `rclone-program`: the rclone binary (default `rclone`); `rclone-args`: extra arguments for
 *   `rclone serve restic` (e.g. `--config /dev/null -v`); `use-stdio`: `false` to serve on 127.0.0.1 instead
 *   of stdin/stdout.
 * - `post-create-command`, `post-delete-command`: commands run after a local file is written or removed
 *   (`%file`, `%type`, `%id` are replaced).
 * - `layout`: the local repository layout, `auto` (default: detected as restic does), `default` or `s3legacy`.
 */
export const BACKEND_OPTION_KEYS: Readonly<Record<BackendScheme, readonly string[]>> = {
  local: ['retries', 'retry-timeout', 'post-create-command', 'post-delete-command', 'layout'],
  rest: ['retries', 'retry', 'retry-timeout', 'timeout', 'connect-timeout', 'cacert', 'insecure-tls', 'connections'],
  rclone: ['retries', 'retry', 'retry-timeout', 'timeout', 'connections', 'rclone-program', 'rclone-args', 'use-stdio'],
  opendal: ['retries', 'retry-timeout', 'timeout'],
}

/** `scheme:` at the start of a repository string. */
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):/


/**
 * Turns repository strings into backends: a local path (or `local:PATH`), `rest:http[s]://[user:pass@]host:port/path`,
 * `rclone:REMOTE:PATH` or `opendal:SCHEME` (service options from `options`). Network backends are wrapped in
 * core's retry decorator. Credentials in a `rest:` URL are sent as HTTP Basic auth and never appear in
 * `location()` or in error messages.
 *
 * ```ts
 * const backends = backendsFromOptions({ repository: 'rest:http://user:secret@host:8000/repo', options: { timeout: '30s' } })
 * const repo = await Repository.open({}, backends, { password })
 * ```
 * @throws RusticError `Configuration` for an unknown scheme, an unknown option or an invalid value.
 */
export function backendsFromOptions(opts: BackendOptions): RepositoryBackends {
  const cold = { ...opts.options, ...opts.optionsCold }
  const hot = { ...opts.options, ...opts.optionsHot }
  const repos = opts.repoHot !== undefined && opts.repoHot !== '' ? [opts.repository, opts.repoHot] : [opts.repository]
  const schemes = repos.map(schemeOf)
  // Options shared by both repositories must be understood by at least one of them.
  if (!schemes.includes('opendal')) {
    const known = new Set(schemes.flatMap((s) => BACKEND_OPTION_KEYS[s]))
    for (const [where, map] of [
      ['', opts.options],
      ['cold ', opts.optionsCold],
      ['hot ', opts.optionsHot],
    ] as const) {
      for (const key of Object.keys(map ?? {})) {
        if (!known.has(normalizeKey(key))) {
          throw new RusticError(
            'Configuration',
            `unknown ${where}backend option "${key}" for ${repos.map(describeRepository).join(' and ')}: known options are ${[...known].sort().join(', ')}`,
            { code: 'UnknownOption' },
          )
        }
      }
    }
  }
  const onWarning = opts.onWarning
  const repository = backendFromString(opts.repository, cold, onWarning)
  if (opts.repoHot === undefined || opts.repoHot === '') return { repository }
  return { repository, repoHot: backendFromString(opts.repoHot, hot, onWarning) }
}

/**
 * A repository string as it may be shown in a message: the backend kind and where it is, never a secret
 * (`local:/abs/path`, `rest:https://user@host:8000/path/`, `rclone:remote`, `opendal:s3`).
 */
export function describeRepository(repo: string): string {
  const scheme = schemeOf(repo)
  const target = SCHEME_PREFIX.test(repo) ? repo.slice(repo.indexOf(':') + 1) : repo
  switch (scheme) {
    case 'local':
      return `local:${resolve(target)}`
    case 'rest':
      try {
        const url = new URL(target)
        url.password = ''
        return `rest:${url.href}`
      } catch {
        return 'rest:'
      }
    case 'rclone': {
      const remote = /^([\w.-]+):/.exec(target)?.[1]
      return remote === undefined ? 'rclone:' : `rclone:${remote}:`
    }
    case 'opendal':
      return `opendal:${target}`
  }
}

/**
 * The backend kind a repository string names (`local` for a plain path).
 * @throws RusticError `Configuration` (code `NoRepository` / `UnsupportedBackend`).
 */
export function schemeOf(repo: string): BackendScheme {
  if (repo === '') {
    throw new RusticError('Configuration', 'no repository given: use -r/--repo or RUSTIC_REPOSITORY', { code: 'NoRepository' })
  }
  const scheme = SCHEME_PREFIX.exec(repo)?.[1]?.toLowerCase()
  if (scheme === undefined) return 'local'
  if (scheme === 'local' || scheme === 'rest' || scheme === 'rclone' || scheme === 'opendal') return scheme
  throw new RusticError(
    'Configuration',
    `unsupported repository type "${scheme}:": use a path, local:, rest:, rclone: or opendal: (prefix a local path containing ':' with ./)`,
    { code: 'UnsupportedBackend' },
  )
}

/**
 * One backend from one repository string; see {@link backendsFromOptions} and {@link BACKEND_OPTION_KEYS}.
 * Keys a backend does not understand are ignored here (except by `opendal:`, which passes them to the service).
 */
export function backendFromString(repo: string, options: Record<string, string> = {}, onWarning?: WarningHandler): WriteBackend {
  const scheme = schemeOf(repo)
  // what follows the `scheme:` prefix (the whole string for a plain local path)
  const target = SCHEME_PREFIX.test(repo) ? repo.slice(repo.indexOf(':') + 1) : repo
  const generic = new Map<string, string>()
  const service: Record<string, string> = {}
  for (const [k, v] of Object.entries(options)) {
    const key = normalizeKey(k)
    if (BACKEND_OPTION_KEYS[scheme].includes(key)) generic.set(key, v)
    else if (scheme === 'opendal') service[k] = v
  }
  const retryTimeout = generic.get('retry-timeout')
  const maxElapsedMs = retryTimeout === undefined ? undefined : parseDurationMs(retryTimeout, 'retry-timeout')
  // undefined: retry without a count limit (within the time budget); 0: no retries
  const retries = parseRetries(
    generic.get('retries') ?? (scheme === 'opendal' ? undefined : generic.get('retry')),
    scheme === 'local' && maxElapsedMs === undefined ? 0 : undefined,
  )
  const withRetry = (b: WriteBackend): WriteBackend =>
    retries === 0
      ? b
      : new RetryBackend(b, {
          maxRetries: retries,
          maxElapsedMs,
          ...(onWarning === undefined
            ? {}
            : {
                onRetry: (err, n, delay, call) =>
                  onWarning(
                    `${call} on ${b.location()} failed (${err.message}); retry ${n}${retries === undefined ? '' : `/${retries}`} in ${Math.round(delay)} ms`,
                    err,
                  ),
              }),
        })
  switch (scheme) {
    case 'local': {
      const path = target
      const o: LocalBackendOptions = {}
      const pc = generic.get('post-create-command')
      const pd = generic.get('post-delete-command')
      if (pc !== undefined) o.postCreateCommand = pc
      if (pd !== undefined) o.postDeleteCommand = pd
      const layout = generic.get('layout')
      if (layout !== undefined) {
        const parsed = LayoutChoiceSchema.safeParse(layout)
        if (!parsed.success) {
          throw new RusticError('Configuration', `invalid layout "${layout}": use auto, default or s3legacy`, { code: 'InvalidOptions' })
        }
        o.layout = parsed.data
      }
      if (onWarning !== undefined) o.onWarning = onWarning
      return withRetry(new (backendClass('LocalBackend'))(resolve(path), o))
    }
    case 'rest': {
      const o: RestBackendOptions = {}
      const t = generic.get('timeout')
      const ct = generic.get('connect-timeout')
      const ca = generic.get('cacert')
      const it = generic.get('insecure-tls')
      const c = generic.get('connections')
      if (t !== undefined) o.timeoutMs = parseDurationMs(t, 'timeout')
      if (ct !== undefined) o.connectTimeoutMs = parseDurationMs(ct, 'connect-timeout')
      if (ca !== undefined) o.caFile = resolve(ca)
      if (it !== undefined) o.insecureTls = parseBool(it, 'insecure-tls')
      if (c !== undefined) o.connections = parseCount(c, 'connections')
      return withRetry(new (backendClass('RestBackend'))(target, o))
    }
    case 'rclone': {
      const o: RcloneBackendOptions = {}
      const t = generic.get('timeout')
      const c = generic.get('connections')
      const prog = generic.get('rclone-program')
      const args = generic.get('rclone-args')
      const stdio = generic.get('use-stdio')
      if (t !== undefined) o.timeoutMs = parseDurationMs(t, 'timeout')
      if (c !== undefined) o.connections = parseCount(c, 'connections')
      if (prog !== undefined) o.rcloneCommand = prog
      if (args !== undefined) o.rcloneArgs = splitArgs(args)
      if (stdio !== undefined) o.useStdio = parseBool(stdio, 'use-stdio')
      return withRetry(new (backendClass('RcloneBackend'))(target, o))
    }
    case 'opendal': {
      if (target === '') {
        throw new RusticError('Configuration', 'no opendal service given: use opendal:SCHEME, e.g. opendal:s3 or opendal:fs', {
          code: 'InvalidUrl',
        })
      }
      // One retry layer: core's (typed errors, onWarning), unless opendal's own `retry` is asked for.
      const ownRetry = Object.keys(service).some((k) => k.toLowerCase() === 'retry')
      return withRetry(new (backendClass('OpenDalBackend'))(target, service, ownRetry ? {} : { retries: 0 }))
    }
  }
}

/** Lower-case, `_` as `-`: `Insecure_TLS` and `insecure-tls` are the same key. */
function normalizeKey(key: string): string {
  return key.trim().toLowerCase().replaceAll('_', '-')
}

function invalid(key: string, value: string, expected: string): RusticError {
  return new RusticError('Configuration', `invalid backend option ${key}=${JSON.stringify(value)}: expected ${expected}`, {
    code: 'InvalidOptions',
  })
}

/**
 * `retries`: a count, `off`/`false`/`none` (0), `on`/`true` (undefined: no count limit, within the time
 * budget), or `default`/empty (`dflt`).
 */
function parseRetries(value: string | undefined, dflt: number | undefined): number | undefined {
  if (value === undefined) return dflt
  const v = value.trim().toLowerCase()
  if (v === '' || v === 'default') return dflt
  if (v === 'true' || v === 'on') return undefined
  if (v === 'off' || v === 'false' || v === 'none') return 0
  if (!/^\d+$/.test(v) || Number(v) > 100) throw invalid('retries', value, 'a number of retries (0-100) or "off"')
  return Number(v)
}

/**
 * A duration in ms from `30` (seconds), `1.5` (seconds), `500ms`, or a humantime duration as core's
 * `parseDuration` reads it (`30s`, `10m`, `1h`, `2m30s`).
 * @throws RusticError `Configuration` (code `InvalidOption`) for anything else or a duration under 1 ms.
 */
export function parseDurationMs(value: string, key = 'duration'): number {
  const v = value.trim()
  let ms: number
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000
  else if (/^\d+(\.\d+)?\s*ms$/i.test(v)) ms = Number(v.replace(/ms$/i, '').trim())
  else {
    try {
      ms = parseDuration(v)
    } catch {
      throw invalid(key, value, 'a duration such as 30 (seconds), 500ms, 30s, 10m or 1h')
    }
  }
  if (!(ms >= 1) || !Number.isFinite(ms) || ms > 2 ** 31 - 1) throw invalid(key, value, 'a duration between 1 ms and 24 days')
  return Math.round(ms)
}

function parseBool(value: string, key: string): boolean {
  const v = value.trim().toLowerCase()
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on' || v === '') return true
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false
  throw invalid(key, value, 'true or false')
}

function parseCount(value: string, key: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) throw invalid(key, value, 'a positive whole number')
  return Number(value)
}

function splitArgs(value: string): string[] {
  try {
    return splitCommandLine(value)
  } catch (err) {
    throw new RusticError('Configuration', `invalid backend option rclone-args: ${(err as Error).message}`, {
      code: 'InvalidOptions',
      cause: err,
    })
  }
}
