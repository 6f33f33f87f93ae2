import { hostname, userInfo } from 'node:os'
import type { CallOptions, WriteBackend } from '../backend/Backend.js'
import { CONFIG_ID } from '../backend/Backend.js'
import { isNotFound } from '../backend/BackendError.js'
import { CloseGuardBackend } from '../backend/CloseGuardBackend.js'
import { DecryptBackend, fileName } from '../backend/DecryptBackend.js'
import type { WarmUpBackend } from '../backend/WarmUpBackend.js'
import { randomPolynomial } from '../chunker/index.js'
import { compressionLevel, type CompressionMode } from '../compression/index.js'
import { Key, type KdfParams } from '../crypto/index.js'
import { RusticError } from '../error/RusticError.js'
import { hashId, randomId, type Id } from '../id/Id.js'
import { noProgress, type ProgressFactory, type WarningHandler } from '../progress/Progress.js'
import {
  createKeyFile,
  parseConfig,
  parseKeyFile,
  parseSnapshot,
  serializeConfig,
  serializeSnapshot,
  type ConfigFile,
  type KeyFile,
  type SnapshotFile,
} from '../repofile/index.js'
import { resolvePassword, type Credentials } from './Credentials.js'
import { IndexedRepository } from './IndexedRepository.js'
import {
  RepositoryOptionsSchema,
  type RepositoryBackends,
  type RepositoryOptions,
} from './RepositoryOptions.js'
import { loadSnapshots, unreadableSnapshotWarning } from './loadSnapshots.js'
import { resolveSnapshot, resolveSnapshots } from './resolveSnapshot.js'
import { matchesFilter, type SnapshotFilter } from './SnapshotFilter.js'
import { composeBackend } from './composeBackend.js'
import { findKey } from './findKey.js'
import { RepositoryLocker, type LockControl, type LockHandle, type LockKind } from './lock/index.js'
import { unlock, type UnlockOptions, type UnlockResult } from '../commands/unlock.js'
import { forget, type ForgetResult } from '../commands/forget/forget.js'
import type { ForgetPlan } from '../commands/forget/ForgetPlan.js'
import { planForget, type ForgetOptions } from '../commands/forget/planForget.js'
import { deleteSnapshots, type DeleteSnapshotsOptions, type DeleteSnapshotsResult } from '../commands/snapshots/deleteSnapshots.js'
import { groupSnapshots, type GroupedSnapshots, type GroupSnapshotsOptions } from '../commands/snapshots/groupSnapshots.js'
import type { SnapshotControl } from '../commands/snapshots/SnapshotControl.js'
import { modifySnapshots, type ModifySnapshotsResult } from '../commands/tag/modifySnapshots.js'
import type { SnapshotModification } from '../commands/tag/SnapshotModification.js'
import { check } from '../commands/check/check.js'
import type { CheckOptions } from '../commands/check/CheckOptions.js'
import type { CheckResult } from '../commands/check/CheckFinding.js'
import type { Control } from '../commands/control.js'
import { listBlobs, listFiles, type ListedBlob, type ListedFile, type ListFileKind } from '../commands/list.js'
import { planRepairIndex, type RepairIndexOptions, type RepairIndexPlan } from '../commands/repair/planRepairIndex.js'
import { repairIndex, type RepairIndexResult } from '../commands/repair/repairIndex.js'

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

/** A key file with its id. */
export interface KeyInfo {
  id: Id
  keyFile: KeyFile
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
    const guarded = new CloseGuardBackend(backend)
    return new Repository(guarded, warmUp, new DecryptBackend(guarded, key, version, configLevel(config)), config, keyId, options)
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
    const guarded = new CloseGuardBackend(backend)
    return new Repository(guarded, warmUp, new DecryptBackend(guarded, key, config.version, configLevel(config)), config, keyId, options)
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

  /**
   * All snapshots passing the filter, oldest first. A snapshot file that cannot be read, decrypted or
   * parsed is left out with a warning naming it (to `options.onWarning`, else the repository's), as restic
   * does; the others are still listed.
   */
  async getSnapshots(filter: SnapshotFilter = {}, options: CallOptions & Pick<Control, 'onWarning'> = {}): Promise<SnapshotFile[]> {
    const { snapshots, unreadable } = await loadSnapshots(this, options)
    const warn = options.onWarning ?? this.onWarning
    for (const [id, err] of unreadable) warn(unreadableSnapshotWarning(id, err), err)
    return sortSnapshots(snapshots.filter((s) => matchesFilter(s, filter)))
  }

  /**
   * Finds a snapshot from a string: a full id, a unique id prefix, `latest` or `latest~N`
   * (the N-th before the latest), the latter two among snapshots passing `filter` that can be read (an
   * unreadable snapshot file is skipped with a warning). A snapshot named by its id that cannot be read
   * fails with `SnapshotUnreadable`.
   */
  async findSnapshot(spec: string, filter: SnapshotFilter = {}, options?: CallOptions & Pick<Control, 'onWarning'>): Promise<SnapshotFile> {
    return resolveSnapshot(this, spec, filter, options)
  }

  /** Stores a snapshot and returns its id (the snapshot object gets the id too). */
  async saveSnapshot(snap: SnapshotFile, options?: CallOptions): Promise<Id> {
    const id = await this.dbe.saveFile('snapshot', serializeSnapshot(snap), options)
    snap.id = id
    return id
  }

  /**
   * Finds several snapshots at once (each string as for {@link Repository.findSnapshot}), reading the
   * snapshot list once; the result keeps the order given, without repeats.
   */
  async findSnapshots(specs: readonly string[], filter: SnapshotFilter = {}, options?: CallOptions & Pick<Control, 'onWarning'>): Promise<SnapshotFile[]> {
    return resolveSnapshots(this, specs, filter, options)
  }

  /**
   * The snapshots passing `options.filter`, grouped by `options.groupBy` (default host, label, paths;
   * rustic's `get_snapshot_group`): groups ordered by host, label, paths, tags, snapshots oldest first;
   * `options.latest` keeps only the newest N of each group.
   */
  async groupSnapshots(options: GroupSnapshotsOptions = {}, control: SnapshotControl = {}): Promise<GroupedSnapshots[]> {
    return groupSnapshots(this, options, control)
  }

  /**
   * Changes snapshots' tags, label, description, delete policy, host name or time (rustic's
   * `SnapshotModification`, restic's `tag`). Snapshots are immutable: each changed one is saved as a new
   * snapshot with `original` set to its first id, then its old file is removed; nothing is written for a
   * snapshot the change leaves as it is. Fails with `AppendOnly` on an append-only repository.
   * @param snapshots - as loaded by {@link Repository.getSnapshots} or {@link Repository.findSnapshots}.
   */
  async modifySnapshots(
    snapshots: readonly SnapshotFile[],
    modification: SnapshotModification,
    control: SnapshotControl = {},
  ): Promise<ModifySnapshotsResult> {
    return modifySnapshots(this, snapshots, modification, control)
  }

  /**
   * Removes snapshots, given as loaded snapshots or full ids (select them with {@link Repository.getSnapshots}
   * and a filter, or {@link Repository.findSnapshots}). A snapshot whose delete policy protects it
   * (`never`, or `after` a time not yet passed) is refused with `SnapshotProtected` unless `options.force`;
   * an append-only repository refuses with `AppendOnly`. Either way nothing is removed. Their data stays
   * until `prune`.
   */
  async deleteSnapshots(
    snapshots: readonly (SnapshotFile | Id)[],
    options: DeleteSnapshotsOptions = {},
    control: SnapshotControl = {},
  ): Promise<DeleteSnapshotsResult> {
    return deleteSnapshots(this, snapshots, options, control)
  }

  /**
   * Works out which snapshots `forget` removes (rustic's `get_forget_snapshots`, restic's
   * `forget --dry-run`): the snapshots passing `options.filter`, grouped by `options.groupBy`, each group
   * kept by the keep options (all of rustic's `KeepOptions`, with restic's rules for restic's options) and
   * by each snapshot's delete policy; or, with `options.snapshots`, exactly those snapshots. Writes
   * nothing: show the plan, then pass it to {@link Repository.forget}. At least one keep option (or
   * `keepNone`) is required (`NoKeepOption`).
   */
  async planForget(options: ForgetOptions, control: SnapshotControl = {}): Promise<ForgetPlan> {
    return planForget(this, options, control)
  }

  /**
   * Removes the snapshots a {@link Repository.planForget} plan marks for removal. Fails with `AppendOnly`
   * on an append-only repository, with nothing removed. Their data stays until `prune`.
   */
  async forget(plan: ForgetPlan, control: SnapshotControl = {}): Promise<ForgetResult> {
    return forget(this, plan, control)
  }

  /** All key files. */
  async listKeys(options?: CallOptions): Promise<KeyInfo[]> {
    const ids = await this.backend.list('key', options)
    const keys: KeyInfo[] = []
    for (const id of ids) {
      keys.push({ id, keyFile: parseKeyFile(await this.backend.readFull('key', id, options), fileName('key', id)) })
    }
    return keys
  }

  /** Adds a key file for another password, for the same master key. Returns its id. */
  async addKey(password: string, opts: { username?: string; hostname?: string; kdf?: KdfParams } = {}): Promise<Id> {
    const { bytes } = await createKeyFile(this.key, password, {
      username: opts.username ?? safeUsername(),
      hostname: opts.hostname ?? hostname(),
      kdf: opts.kdf,
    })
    const id = hashId(bytes)
    await this.backend.writeBytes('key', id, false, bytes)
    return id
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

  /**
   * Checks the repository's integrity (restic's and rustic's `check`), reading the repository itself,
   * never the cache; problems are findings in the result. See {@link CheckOptions}.
   */
  check(options?: CheckOptions, control?: Control): Promise<CheckResult> {
    return this.withLock('exclusive', control, (lock) => check(this, options, { ...control, signal: lock.signal }))
  }

  /** Works out how `repair index` would rebuild the index from the pack headers, writing nothing (and taking no lock). */
  planRepairIndex(options?: RepairIndexOptions, control?: Control): Promise<RepairIndexPlan> {
    return planRepairIndex(this, options, control)
  }

  /** Carries out a plan of {@link Repository.planRepairIndex}: new index files first, then the old ones removed. */
  repairIndex(plan: RepairIndexPlan, control?: Control): Promise<RepairIndexResult> {
    return this.withLock('exclusive', control, (lock) => repairIndex(this, plan, { ...control, signal: lock.signal }))
  }

  /** The files of one kind, with their sizes (restic's `list packs|index|snapshots|keys|locks`). */
  listFiles(kind: ListFileKind, control?: Control): Promise<ListedFile[]> {
    // restic lists under a shared lock, but `locks` without one
    if (kind === 'locks') return listFiles(this, kind, control)
    return this.withLock('shared', control, (lock) => listFiles(this, kind, { ...control, signal: lock.signal }))
  }

  /** Every blob every index file lists, with its pack (restic's `list blobs`). */
  async *listBlobs(control?: Control): AsyncGenerator<ListedBlob> {
    const lock = await this.lock('shared', control)
    try {
      yield* listBlobs(this, { ...control, signal: lock.signal })
    } finally {
      await lock.release()
    }
  }

  /** Throws `RepositoryClosed` once {@link close} has run (every backend call does). */
  assertOpen(): void {
    if (this.backend instanceof CloseGuardBackend) this.backend.check()
  }

  /**
   * Releases this object's locks, then backend resources (connections, child processes). Afterwards every
   * call on it (and on the objects made from it: `withCompression`, `toIndexed`) fails with
   * `RepositoryClosed`. Closing again does nothing.
   */
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

