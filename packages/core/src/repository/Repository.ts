import { hostname, userInfo } from 'node:os'
import type { CallOptions, WriteBackend } from '../backend/Backend.js'
import { CONFIG_ID } from '../backend/Backend.js'
import { isNotFound } from '../backend/BackendError.js'
import { DecryptBackend, fileName } from '../backend/DecryptBackend.js'
import type { WarmUpBackend } from '../backend/WarmUpBackend.js'
import { randomPolynomial } from '../chunker/index.js'
import { compressionLevel, type CompressionMode } from '../compression/index.js'
import { Key, type KdfParams } from '../crypto/index.js'
import { RusticError, throwIfAborted } from '../error/RusticError.js'
import { hashId, randomId, type Id } from '../id/Id.js'
import { noProgress, type ProgressFactory, type WarningHandler } from '../progress/Progress.js'
import {
  createKeyFile,
  parseConfig,
  parseSnapshot,
  serializeConfig,
  serializeSnapshot,
  type ConfigFile,
  type SnapshotFile,
} from '../repofile/index.js'
import { resolvePassword, type Credentials } from './Credentials.js'
import { IndexedRepository } from './IndexedRepository.js'
import {
  RepositoryOptionsSchema,
  type RepositoryBackends,
  type RepositoryOptions,
} from './RepositoryOptions.js'
import { resolveSnapshot } from './resolveSnapshot.js'
import { matchesFilter, type SnapshotFilter } from './SnapshotFilter.js'
import { composeBackend } from './composeBackend.js'
import { findKey } from './findKey.js'
import { RepositoryLocker, type LockControl, type LockHandle, type LockKind } from './lock/index.js'
import { unlock, type UnlockOptions, type UnlockResult } from '../commands/unlock.js'
import type { Control } from '../progress/Control.js'
import { addKey, type AddKeyOptions } from '../commands/key/addKey.js'
import { changePassword, type ChangePasswordResult } from '../commands/key/changePassword.js'
import { listKeys, type KeyInfo } from '../commands/key/listKeys.js'
import { removeKey } from '../commands/key/removeKey.js'
import { applyConfig, type ApplyConfigResult } from '../commands/config/applyConfig.js'
import type { ConfigOptions } from '../commands/config/ConfigOptions.js'
import { repoInfo, type RepoInfoOptions, type RepoInfo } from '../commands/repoinfo/repoInfo.js'

/** Options for {@link Repository.init}. */
export interface InitOptions {
  /** Repository version: 2 (default, zstd compression) or 1. */
  version?: 1 | 2
  /** Chunker polynomial; random (irreducible, degree 53) by default. */
  chunkerPolynomial?: bigint
  /** scrypt parameters of the first key. */
  kdf?: KdfParams
  /** Username and hostname recorded in the first key file. */
  username?: string
  hostname?: string
}

/**
 * An open repository: config read, master key unlocked (rustic_core's `Repository<Open>`).
 * Call {@link Repository.toIndexed} to load the index for blob access.
 */
export class Repository {
  /** The parsed options, with defaults. */
  readonly options: ReturnType<typeof RepositoryOptionsSchema.parse>
  /** Creates progress indicators (silent by default). */
  readonly progress: ProgressFactory
  /** Receives warnings. */
  readonly onWarning: WarningHandler
  /** The locks this object holds (shared with the objects {@link withCompression} makes). */
  private readonly locker: RepositoryLocker

  private constructor(
    /** The decorated backend (hot/cold, cache, ...), without encryption. */
    readonly backend: WriteBackend,
    /** The warm-up layer, when warm-up is configured. */
    private readonly warmUp: WarmUpBackend | undefined,
    /** The encryption layer. */
    readonly dbe: DecryptBackend,
    /** The repository config. */
    readonly config: ConfigFile,
    /** The id of the key file that opened the repository (undefined when opened with a master key). */
    readonly keyId: Id | undefined,
    options: RepositoryOptions,
    locker?: RepositoryLocker,
  ) {
    this.options = RepositoryOptionsSchema.parse(options)
    this.progress = this.options.progress ?? noProgress
    this.onWarning = this.options.onWarning ?? (() => {})
    this.locker = locker ?? new RepositoryLocker(dbe, { enabled: this.options.lock, retryLockMs: this.options.retryLockMs, onWarning: this.onWarning })
  }

  /** The master key. */
  get key(): Key {
    return this.dbe.key
  }

  /** The repository id (from its config). */
  get id(): Id {
    return this.config.id
  }

  /** Where the repository is (no secrets). */
  location(): string {
    return this.backend.location()
  }

  /**
   * Creates a new repository: config with a random chunker polynomial and the first key.
   * Fails with `RepositoryExists` if there is already a config.
   */
  static async init(
    backends: RepositoryBackends,
    credentials: Credentials,
    initOptions: InitOptions = {},
    options: RepositoryOptions = {},
  ): Promise<Repository> {
    const { backend: raw } = await composeBackend(backends, undefined, options)
    const existing = await backends.repository.list('config').catch((e: unknown) => (isNotFound(e) ? [] : Promise.reject(e)))
    if (existing.length > 0) {
      throw new RusticError('Repository', `a repository already exists at ${raw.location()}`, { code: 'RepositoryExists' })
    }
    const password = await resolvePassword(credentials)
    const key = credentials.key ?? Key.random()
    const version = initOptions.version ?? 2
    const config: ConfigFile = {
      version,
      id: randomId(),
      chunkerPolynomial: initOptions.chunkerPolynomial ?? randomPolynomial(),
    }
    await raw.create()
    let keyId: Id | undefined
    if (password !== undefined) {
      const { bytes } = await createKeyFile(key, password, {
        username: initOptions.username ?? safeUsername(),
        hostname: initOptions.hostname ?? hostname(),
        kdf: initOptions.kdf,
      })
      keyId = hashId(bytes)
      await raw.writeBytes('key', keyId, false, bytes)
    }
    await backends.repository.writeBytes('config', CONFIG_ID, false, key.encrypt(serializeConfig(config)))
    if (backends.repoHot) {
      await backends.repoHot.create()
      await backends.repoHot.writeBytes('config', CONFIG_ID, false, key.encrypt(serializeConfig({ ...config, isHot: true })))
    }
    const { backend, warmUp } = await composeBackend(backends, config.id, options)
    return new Repository(backend, warmUp, new DecryptBackend(backend, key, version, configLevel(config)), config, keyId, options)
  }

  /**
   * Opens a repository: reads its config and unlocks a key with the credentials.
   * Throws `RepositoryNotFound` ("no repository at <location>") if there is no config,
   * `IncorrectPassword` if no key file opens with the password.
   */
  static async open(
    options: RepositoryOptions,
    backends: RepositoryBackends,
    credentials: Credentials,
  ): Promise<Repository> {
    const { backend: raw } = await composeBackend(backends, undefined, options)
    let sealedConfig: Uint8Array
    try {
      sealedConfig = await backends.repository.readFull('config', CONFIG_ID)
    } catch (e) {
      if (isNotFound(e)) {
        throw new RusticError('Repository', `no repository at ${raw.location()}: the config file is missing`, {
          code: 'RepositoryNotFound',
          cause: e,
        })
      }
      throw e
    }
    let key = credentials.key
    let keyId: Id | undefined
    if (!key) {
      const password = await resolvePassword(credentials)
      ;({ key, keyId } = await findKey(raw, password!, options.onWarning))
    }
    const config = parseConfig(key.decrypt(sealedConfig, 'config'))
    if (backends.repoHot) await checkHotConfig(backends.repoHot, key, config)
    const { backend, warmUp } = await composeBackend(backends, config.id, options)
    return new Repository(backend, warmUp, new DecryptBackend(backend, key, config.version, configLevel(config)), config, keyId, options)
  }

  /** Sets how blobs and files are compressed from now on (v2 repositories only). */
  withCompression(mode: CompressionMode): Repository {
    const dbe = new DecryptBackend(this.backend, this.key, this.config.version, compressionLevel(mode))
    return new Repository(this.backend, this.warmUp, dbe, this.config, this.keyId, this.options, this.locker)
  }

  /**
   * Warms up packs before reading them (cold storage), when the repository was opened with
   * `warmUp` or a `warmUpCommand`; otherwise does nothing. Restore, check with `readData` and
   * prune's repacking call it with the packs they are about to read.
   */
  async warmUpPacks(packIds: Id[], options: CallOptions = {}): Promise<void> {
    if (this.warmUp && packIds.length > 0) await this.warmUp.warmUpPacks(packIds, options.signal)
  }

  /** Ids of all snapshots. */
  async snapshotIds(options?: CallOptions): Promise<Id[]> {
    return this.backend.list('snapshot', options)
  }

  /** Reads one snapshot by its full id. */
  async getSnapshot(id: Id, options?: CallOptions): Promise<SnapshotFile> {
    return parseSnapshot(await this.dbe.readEncryptedFull('snapshot', id, options), fileName('snapshot', id), id)
  }

  /** All snapshots passing the filter, oldest first. */
  async getSnapshots(filter: SnapshotFilter = {}, options: CallOptions = {}): Promise<SnapshotFile[]> {
    const snaps: SnapshotFile[] = []
    const p = this.progress('counter', 'reading snapshots')
    const ids = await this.snapshotIds(options)
    p.setLength(ids.length)
    for await (const s of this.dbe.streamAll('snapshot', (plain, id) => parseSnapshot(plain, fileName('snapshot', id), id), {
      ...options,
      ids,
      concurrency: this.options.concurrency,
    })) {
      p.inc(1)
      if (matchesFilter(s, filter)) snaps.push(s)
    }
    p.finish()
    return sortSnapshots(snaps)
  }

  /**
   * Finds a snapshot from a string: a full id, a unique id prefix, `latest` or `latest~N`
   * (the N-th before the latest), the latter two among snapshots passing `filter`.
   */
  async findSnapshot(spec: string, filter: SnapshotFilter = {}, options?: CallOptions): Promise<SnapshotFile> {
    return resolveSnapshot(this, spec, filter, options)
  }

  /** Stores a snapshot and returns its id (the snapshot object gets the id too). */
  async saveSnapshot(snap: SnapshotFile, options?: CallOptions): Promise<Id> {
    const id = await this.dbe.saveFile('snapshot', serializeSnapshot(snap), options)
    snap.id = id
    return id
  }

  /** Removes snapshots (refused by append-only backends). */
  async deleteSnapshots(ids: Id[], options?: CallOptions): Promise<void> {
    for (const id of ids) {
      throwIfAborted(options?.signal)
      await this.backend.remove('snapshot', id, true, options)
    }
  }

  /** The key files, the one in use marked (restic's `key list`). */
  listKeys(control?: Control): Promise<KeyInfo[]> {
    return listKeys(this, control)
  }

  /** Adds a key file for another password, for the same master key (restic's `key add`). */
  addKey(password: string, options?: AddKeyOptions, control?: Control): Promise<Id> {
    return addKey(this, password, options, control)
  }

  /** Removes a key file by id or unique prefix, never the one in use nor the last (restic's `key remove`). */
  removeKey(key: string, control?: Control): Promise<Id> {
    return removeKey(this, key, control)
  }

  /** Replaces the key in use by one for `newPassword` (restic's `key passwd`). */
  async changePassword(newPassword: string, options?: AddKeyOptions, control?: Control): Promise<ChangePasswordResult> {
    const result = await changePassword(this, newPassword, options, control)
    ;(this as { keyId: Id | undefined }).keyId = result.added
    return result
  }

  /**
   * Changes the config (rustic's `config`, restic's `migrate upgrade_repo_v2`).
   * This object uses the new config afterwards.
   */
  async applyConfig(options: ConfigOptions, control?: Control): Promise<ApplyConfigResult> {
    const result = await applyConfig(this, options, control)
    if (result.changed) {
      const self = this as { config: ConfigFile; dbe: DecryptBackend }
      self.config = result.config
      self.dbe = new DecryptBackend(this.backend, this.key, result.config.version, configLevel(result.config))
    }
    return result
  }

  /** Counts and sizes of files, blobs and packs, compression and unused blobs (rustic's `repoinfo`). */
  repoInfo(options?: RepoInfoOptions, control?: Control): Promise<RepoInfo> {
    return repoInfo(this, options, control)
  }

  /** Loads every index file into memory and returns the indexed repository (rustic_core's `Repository<Indexed>`). */
  async toIndexed(options: CallOptions = {}): Promise<IndexedRepository> {
    return IndexedRepository.load(this, options)
  }

  /**
   * Takes restic's lock of `kind` (`shared` for backup and reads, `exclusive` for commands that delete),
   * or shares the one this object already holds; see {@link LockHandle}. With `lock: false` the handle
   * does nothing. Release it when done (closing the repository releases every lock).
   * @throws RepositoryLockedError (code `RepositoryLocked`) naming the other client's lock, once
   * `retryLockMs` has passed; RusticError `Aborted`.
   */
  lock(kind: LockKind, control?: LockControl): Promise<LockHandle> {
    return this.locker.acquire(kind, control)
  }

  /**
   * Runs `fn` holding a lock of `kind` (see {@link lock}), released afterwards. `fn` gets the handle:
   * pass `lock.signal` to its work and call `lock.verify()` before a step that needs the lock.
   * A lock lost meanwhile fails the call with `LockLost`.
   */
  withLock<T>(kind: LockKind, control: LockControl | undefined, fn: (lock: LockHandle) => Promise<T>): Promise<T> {
    return this.locker.withLock(kind, control, fn)
  }

  /** Removes stale locks, or all with `removeAll` (restic's `unlock`); see {@link unlock}. */
  unlock(options?: UnlockOptions, control?: LockControl): Promise<UnlockResult> {
    return unlock(this, options, control)
  }

  /** Releases this object's locks, then backend resources (connections, child processes). */
  async close(): Promise<void> {
    await this.locker.releaseAll()
    await this.backend.close?.()
  }
}

/** The zstd level a repository's config asks for (rustic's `compression`; undefined = auto, 0 = off). */
function configLevel(config: ConfigFile): number | undefined {
  if (config.version === 1) return undefined
  if (config.compression === undefined) return compressionLevel('auto')
  return config.compression === 0 ? undefined : config.compression
}

/** Sorts snapshots oldest first (by time, then id). */
export function sortSnapshots(snaps: SnapshotFile[]): SnapshotFile[] {
  return snaps.sort((a, b) => {
    const d = Date.parse(a.time) - Date.parse(b.time)
    if (d !== 0 && !Number.isNaN(d)) return d
    return a.time < b.time ? -1 : a.time > b.time ? 1 : (a.id ?? '') < (b.id ?? '') ? -1 : 1
  })
}

function safeUsername(): string {
  try {
    return userInfo().username
  } catch {
    return ''
  }
}

/** Checks that a hot repository belongs to the cold one: same id, marked hot. */
async function checkHotConfig(hot: WriteBackend, key: Key, config: ConfigFile): Promise<void> {
  let hotConfig: ConfigFile
  try {
    hotConfig = parseConfig(key.decrypt(await hot.readFull('config', CONFIG_ID), 'hot config'))
  } catch (e) {
    throw new RusticError('Repository', `the hot repository at ${hot.location()} cannot be used: ${(e as Error).message}`, {
      code: 'HotRepositoryMismatch',
      cause: e,
    })
  }
  if (hotConfig.id !== config.id || !hotConfig.isHot) {
    throw new RusticError('Repository', `the hot repository at ${hot.location()} does not belong to ${config.id}`, {
      code: 'HotRepositoryMismatch',
    })
  }
}

