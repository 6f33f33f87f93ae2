import type { Command } from 'commander'
import { deriveKey, Repository, RusticError, type KeyDeriver, type RepositoryOptions, type WriteBackend } from '@rustic-ts/core'
import { keyFromKdfBytes, parseDuration } from '@rustic-ts/core/internal'
import { backendsFromOptions, loadBackendClasses, schemeOf } from '../backendsFromOptions.js'
import { backendOptionMap, credentialsFrom, globalOptions, type GlobalOptions } from './GlobalOptions.js'
import { takeEarlyKey } from './earlyKey/earlyKeyDerivation.js'
import { progressBars } from './progressBar.js'
import { SnapshotPrefetchBackend } from './SnapshotPrefetchBackend.js'

/**
 * Repository options from the global flags. The default on-disk cache (`@rustic-ts/cache`) is imported only
 * when the repository is opened with a cache, so `--no-cache` runs and `--help` do not load it.
 */
export function repositoryOptions(g: GlobalOptions): RepositoryOptions {
  const onWarning = (msg: string): void => void process.stderr.write(`warning: ${msg}\n`)
  return {
    ...g.profile?.repository.options,
    cacheDir: g.cacheDir,
    noCache: !g.cache,
    progress: progressBars(g.progress && !g.json),
    onWarning,
    lock: g.lock,
    retryLockMs: retryLockMs(g.retryLock),
    cache: async (b, repoId, cacheDir) => (await import('../defaultCache.js')).defaultCacheFactory(onWarning)(b, repoId, cacheDir),
    keyDeriver: earlyKeyDeriver(),
  }
}

/**
 * Core's `deriveKey`, but for the password, salt and parameters of the derivation `dist/cli.js` started before
 * the program loaded (see `startEarlyKeyDerivation`): that one's result, once; it is awaited only when it is
 * exactly this derivation, and if it failed the key is derived here as usual. `whileWaiting` is called as this
 * thread begins to wait for that result, with a signal that aborts as soon as it is there.
 */
function earlyKeyDeriver(whileWaiting?: (keyThere: AbortSignal) => void): KeyDeriver {
  return async (password, salt, params) => {
    const early = takeEarlyKey(password, salt, params)
    let bytes: Uint8Array | undefined
    if (early !== undefined) {
      const there = new AbortController()
      whileWaiting?.(there.signal)
      try {
        bytes = await early
      } finally {
        there.abort()
      }
    }
    // (the early derivation starts only for valid parameters, and these are the same)
    return bytes === undefined ? deriveKey(password, salt, params) : keyFromKdfBytes(bytes)
  }
}

/** The backends named by `-r` / `--repo-hot` / `-o`. */
export async function backendsOf(g: GlobalOptions): Promise<ReturnType<typeof backendsFromOptions>> {
  const repos = [g.repo ?? '', g.repoHot ?? ''].filter((r, i) => i === 0 || r !== '')
  await loadBackendClasses(repos)
  const fromProfile = g.profile?.repository.backend
  return backendsFromOptions({
    repository: g.repo ?? '',
    repoHot: g.repoHot,
    options: { ...fromProfile?.options, ...backendOptionMap(g.option, repos.flatMap(optionPrefixes)) },
    optionsHot: fromProfile?.optionsHot,
    optionsCold: fromProfile?.optionsCold,
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
  })
}

/** The prefixes restic users put before a backend option (`local.layout`, `s3.region` for `opendal:s3`). */
export function optionPrefixes(repo: string): string[] {
  const scheme = schemeOf(repo)
  return scheme === 'opendal' ? ['opendal', repo.slice('opendal:'.length).toLowerCase()] : [scheme]
}

/** What a command will read, for {@link openRepo}. */
export interface OpenIntent {
  /**
   * The command reads every snapshot file (`snapshots`, `ls latest`): without a cache (whose copies would
   * be read instead) and a hot repository, they are read while the key is derived (see
   * {@link SnapshotPrefetchBackend}).
   */
  readsAllSnapshots?: boolean
  /**
   * The command also reads every index file, and reads the repository's files below any cache (`check`):
   * those are read early too, with a cache as well.
   */
  readsAllIndexes?: boolean
  /** Work for this thread while it waits for the key (see {@link KeyWait}); not with a hot repository. */
  whileKeyDerived?: KeyWait
}

/**
 * Work for the main thread while the key is derived off it by the early derivation (see `startEarlyKeyDerivation`),
 * which it would otherwise wait for (`check --read-data` hashes pack files: see `EarlyPackHashes`).
 */
export interface KeyWait {
  /** Called once the repository's backend is made, before the repository is opened (e.g. to list files meanwhile). */
  begin(backend: WriteBackend): void
  /**
   * Called when this thread begins to wait for the early derivation's key (not if the key is derived otherwise),
   * with a signal that aborts as soon as the key is there: the work should then stop within a few milliseconds.
   */
  wait(keyThere: AbortSignal): void
}

/** Opens the repository named by the global options of `cmd` (with `overrides` of the options they give). */
export async function openRepo(cmd: Command, overrides: RepositoryOptions = {}, intent: OpenIntent = {}): Promise<Repository> {
  const g = globalOptions(cmd)
  const options = { ...repositoryOptions(g), ...overrides }
  let backends = await backendsOf(g)
  if (intent.readsAllSnapshots && (options.noCache || intent.readsAllIndexes) && !backends.repoHot) {
    const types = intent.readsAllIndexes ? (['index', 'snapshot'] as const) : (['snapshot'] as const)
    backends = { ...backends, repository: new SnapshotPrefetchBackend(backends.repository, options.concurrency ?? 8, types) }
  }
  const keyWait = backends.repoHot ? undefined : intent.whileKeyDerived
  if (keyWait) {
    keyWait.begin(backends.repository)
    if (overrides.keyDeriver === undefined) options.keyDeriver = earlyKeyDeriver((keyThere) => keyWait.wait(keyThere))
  }
  return Repository.open(options, backends, await credentialsFrom(g))
}

/** `--retry-lock`: a duration such as `30s`, `5m`, `1h30m` (or `0`), in ms. */
function retryLockMs(value: string | undefined): number {
  if (value === undefined || value.trim() === '0') return 0
  try {
    return Math.round(parseDuration(value))
  } catch {
    throw new RusticError('InvalidInput', `invalid --retry-lock "${value}": expected a duration such as 30s, 5m or 1h30m`, {
      code: 'InvalidOptions',
    })
  }
}

/** Writes to stdout, waiting for the stream to drain (for large outputs and pipes). */
export async function writeOut(data: string | Uint8Array): Promise<void> {
  if (!process.stdout.write(data)) {
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => reject(e)
      process.stdout.once('error', onErr)
      process.stdout.once('drain', () => {
        process.stdout.off('error', onErr)
        resolve()
      })
    })
  }
}
