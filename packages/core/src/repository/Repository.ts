import { hostname, userInfo } from 'node:os'
import { z } from 'zod'
import type { CallOptions, WriteBackend } from '../backend/Backend.js'
import { CONFIG_ID } from '../backend/Backend.js'
import { isNotFound } from '../backend/BackendError.js'
import { CloseGuardBackend } from '../backend/CloseGuardBackend.js'
import { DecryptBackend, fileName } from '../backend/DecryptBackend.js'
import type { WarmUpBackend } from '../backend/WarmUpBackend.js'
import { randomPolynomial } from '../chunker/index.js'
import { compressionLevel, type CompressionMode } from '../compression/index.js'
import { Key } from '../crypto/index.js'
import { RusticError } from '../error/RusticError.js'
import { findIdByPrefix, hashId, randomId, type Id } from '../id/Id.js'
import { ControlSchema, type Control, type ResolvedControl } from '../progress/Control.js'
import { noProgress, type ProgressFactory, type WarningHandler } from '../progress/Progress.js'
import {
  CreateKeyFileOptionsSchema,
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
import { loadSnapshots, unreadableSnapshotWarning } from './loadSnapshots.js'
import { resolveSnapshot, resolveSnapshots } from './resolveSnapshot.js'
import { matchesFilter, type SnapshotFilter } from './SnapshotFilter.js'
import { composeBackend } from './composeBackend.js'
import { findKey } from './findKey.js'
import { RepositoryLocker, type LockHandle, type LockKind } from './lock/index.js'
import { parseOptions } from '../util/parseOptions.js'
import { unlock, type UnlockOptions, type UnlockResult } from '../commands/unlock.js'
import { planPrune } from '../commands/prune/planPrune.js'
import { prune } from '../commands/prune/prune.js'
import type { PruneOptions } from '../commands/prune/PruneOptions.js'
import type { PrunePlan, PruneResult } from '../commands/prune/PrunePlan.js'
import { forget, type ForgetResult } from '../commands/forget/forget.js'
import type { ForgetPlan } from '../commands/forget/ForgetPlan.js'
import { planForget, type ForgetOptions } from '../commands/forget/planForget.js'
import { deleteSnapshots, type DeleteSnapshotsOptions, type DeleteSnapshotsResult } from '../commands/snapshots/deleteSnapshots.js'
import { groupSnapshots, type GroupedSnapshots, type GroupSnapshotsOptions } from '../commands/snapshots/groupSnapshots.js'
import { modifySnapshots, type ModifySnapshotsResult } from '../commands/tag/modifySnapshots.js'
import type { SnapshotModification } from '../commands/tag/SnapshotModification.js'
import { prepareCheck } from '../commands/check/check.js'
import type { CheckOptions } from '../commands/check/CheckOptions.js'
import type { CheckResult } from '../commands/check/CheckFinding.js'
import { listBlobs, listFiles, type ListedBlob, type ListedFile, type ListFileKind } from '../commands/list.js'
import { planRepairIndex, type RepairIndexOptions, type RepairIndexPlan } from '../commands/repair/planRepairIndex.js'
import { repairIndex, type RepairIndexResult } from '../commands/repair/repairIndex.js'
import { addKey, type AddKeyOptions } from '../commands/key/addKey.js'
import { changePassword, type ChangePasswordResult } from '../commands/key/changePassword.js'
import { listKeys, type KeyInfo } from '../commands/key/listKeys.js'
import { removeKey } from '../commands/key/removeKey.js'
import { applyConfig, type ApplyConfigResult } from '../commands/config/applyConfig.js'
import type { ConfigOptions } from '../commands/config/ConfigOptions.js'
import { repoInfo, type RepoInfoOptions, type RepoInfo } from '../commands/repoinfo/repoInfo.js'

/** Options of {@link Repository.init}, with defaults. */
export const InitOptionsSchema = z.object({
  /** Repository version: 2 (default, zstd compression) or 1. */
  version: z.union([z.literal(1), z.literal(2)]).default(2),
  /** Chunker polynomial; random (irreducible, degree 53) by default. */
  chunkerPolynomial: z.bigint().optional(),
  /** scrypt parameters of the first key. */
  kdf: CreateKeyFileOptionsSchema.shape.kdf,
  /** User name recorded in the first key file (default: the current user). */
  username: z.string().optional(),
  /** Host name recorded in the first key file (default: this host). */
  hostname: z.string().optional(),
})

/** Options of {@link Repository.init}; see {@link InitOptionsSchema}. */
export type InitOptions = z.input<typeof InitOptionsSchema>

/** The repository files {@link Repository.catFile} prints. */
export type CatFileType = 'config' | 'key' | 'snapshot' | 'index'

/** What {@link Repository}'s private constructor takes. */
interface RepositoryParts {
  backend: WriteBackend
  warmUp: WarmUpBackend | undefined
  dbe: DecryptBackend
  config: ConfigFile
  keyId: Id | undefined
  options: z.output<typeof RepositoryOptionsSchema>
  /** The locker of the object this one is made from (so that both share their locks). */
  locker?: RepositoryLocker
}

/**
 * An open repository: config read, master key unlocked (rustic_core's `Repository<Open>`). Its methods
 * take `(subjects..., options?, control?)`; call {@link Repository.toIndexed} to load the index for the
 * commands that read or write blobs.
 */
export class Repository {
  /** The repository config. */
  readonly config: ConfigFile
  /** The id of the key file that opened the repository (undefined when opened with a master key). */
  readonly keyId: Id | undefined
  /** @internal The decorated backend (hot/cold, cache, ...), without encryption. */
  readonly backend: WriteBackend
  /** @internal The encryption layer. */
  readonly dbe: DecryptBackend
  /** @internal The parsed options, with defaults. */
  readonly options: z.output<typeof RepositoryOptionsSchema>
  /** @internal The default progress factory of commands (silent unless the options give one). */
  readonly progress: ProgressFactory
  /** @internal The default warning handler of commands (drops warnings unless the options give one). */
  readonly onWarning: WarningHandler
  /** The warm-up layer, when warm-up is configured. */
  readonly #warmUp: WarmUpBackend | undefined
  /** The locks this object holds (shared with the objects {@link Repository.withCompression} makes). */
  readonly #locker: RepositoryLocker

  private constructor(parts: RepositoryParts) {
    this.backend = parts.backend
    this.#warmUp = parts.warmUp
    this.dbe = parts.dbe
    this.config = parts.config
    this.keyId = parts.keyId
    this.options = parts.options
    this.progress = this.options.progress ?? noProgress
    this.onWarning = this.options.onWarning ?? (() => {})
    this.#locker =
      parts.locker ?? new RepositoryLocker(this.dbe, { enabled: this.options.lock, retryLockMs: this.options.retryLockMs, onWarning: this.onWarning })
  }

  /** @internal The master key. */
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

  /** @internal A command's control with this repository's progress and warning handler as defaults. */
  control(control: Control = {}): ResolvedControl {
    const c = parseOptions(ControlSchema, control, 'control')
    return { signal: c.signal, progress: c.progress ?? this.progress, onWarning: c.onWarning ?? this.onWarning }
  }

  /**
   * Creates a new repository: config with a random chunker polynomial and the first key.
   * Fails with `RepositoryExists` if there is already a config.
   */
  static async init(
    options: RepositoryOptions,
    backends: RepositoryBackends,
    credentials: Credentials,
    initOptions: InitOptions = {},
  ): Promise<Repository> {
    const opts = parseOptions(RepositoryOptionsSchema, options, 'repository options')
    const init = parseOptions(InitOptionsSchema, initOptions, 'init options')
    const { backend: raw } = await composeBackend(backends, undefined, opts)
    const existing = await backends.repository.list('config').catch((e: unknown) => (isNotFound(e) ? [] : Promise.reject(e)))
    if (existing.length > 0) {
      throw new RusticError('Repository', `a repository already exists at ${raw.location()}`, { code: 'RepositoryExists' })
    }
    const password = await resolvePassword(credentials)
    const key = credentials.key ?? Key.random()
    const config: ConfigFile = {
      version: init.version,
      id: randomId(),
      chunkerPolynomial: init.chunkerPolynomial ?? randomPolynomial(),
    }
    await raw.create()
    let keyId: Id | undefined
    if (password !== undefined) {
      const { bytes } = await createKeyFile(key, password, {
        username: init.username ?? safeUsername(),
        hostname: init.hostname ?? hostname(),
        kdf: init.kdf,
      })
      keyId = hashId(bytes)
      await raw.writeBytes('key', keyId, false, bytes)
    }
    await backends.repository.writeBytes('config', CONFIG_ID, false, key.encrypt(serializeConfig(config)))
    if (backends.repoHot) {
      await backends.repoHot.create()
      await backends.repoHot.writeBytes('config', CONFIG_ID, false, key.encrypt(serializeConfig({ ...config, isHot: true })))
    }
    const { backend: composed, warmUp } = await composeBackend(backends, config.id, opts)
    // on top: once closed, every call fails with RepositoryClosed
    const backend = new CloseGuardBackend(composed)
    const dbe = configDecryptBackend(backend, key, config, opts)
    return new Repository({ backend, warmUp, dbe, config, keyId, options: opts })
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
    const opts = parseOptions(RepositoryOptionsSchema, options, 'repository options')
    const { backend: raw } = await composeBackend(backends, undefined, opts)
    let sealedConfig: Uint8Array
    try {
      sealedConfig = await backends.repository.readFull('config', CONFIG_ID)
    } catch (e) {
      if (isNotFound(e)) {
        // a location below a file: say so, not that a config is missing (`-r` names a file by mistake)
        const notDir = (e as { cause?: { code?: unknown } }).cause?.code === 'ENOTDIR'
        const why = notDir ? 'it is a file (or below one), not a directory' : 'the config file is missing'
        throw new RusticError('Repository', `no repository at ${raw.location()}: ${why}`, {
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
      ;({ key, keyId } = await findKey(raw, password!, opts.onWarning, opts.keyDeriver))
    }
    const config = parseConfig(key.decrypt(sealedConfig, 'config'))
    if (backends.repoHot) await checkHotConfig(backends.repoHot, key, config)
    const { backend: composed, warmUp } = await composeBackend(backends, config.id, opts)
    // on top: once closed, every call fails with RepositoryClosed
    const backend = new CloseGuardBackend(composed)
    const dbe = configDecryptBackend(backend, key, config, opts)
    return new Repository({ backend, warmUp, dbe, config, keyId, options: opts })
  }

  /** The same repository, compressing new blobs and files with `mode` (v2 repositories only). */
  withCompression(mode: CompressionMode): Repository {
    const dbe = new DecryptBackend(this.backend, this.key, this.config.version, compressionLevel(mode), {
      compressionAuto: mode === 'auto',
      onWarning: this.options.onWarning,
    })
    return new Repository({
      backend: this.backend,
      warmUp: this.#warmUp,
      dbe,
      config: this.config,
      keyId: this.keyId,
      options: this.options,
      locker: this.#locker,
    })
  }

  /**
   * @internal Warms up packs before reading them (cold storage), when the repository was opened with
   * `warmUp` or a `warmUpCommand`; otherwise does nothing. Restore, check with `readData` and prune's
   * repacking call it with the packs they are about to read.
   */
  async warmUpPacks(packIds: Id[], options: CallOptions = {}): Promise<void> {
    if (this.#warmUp && packIds.length > 0) await this.#warmUp.warmUpPacks(packIds, options.signal)
  }

  /** Ids of all snapshots. Takes no lock (nor do the other snapshot reads below, but `groupSnapshots`). */
  async snapshotIds(control: Control = {}): Promise<Id[]> {
    return this.backend.list('snapshot', { signal: control.signal })
  }

  /** Reads one snapshot by its full id. */
  async getSnapshot(id: Id, control: Control = {}): Promise<SnapshotFile> {
    return parseSnapshot(await this.dbe.readEncryptedFull('snapshot', id, { signal: control.signal }), fileName('snapshot', id), id)
  }

  /**
   * All snapshots passing the filter, oldest first. A snapshot file that cannot be read, decrypted or
   * parsed is left out with a warning naming it (to `control.onWarning`, else the repository's), as restic
   * does; the others are still listed.
   */
  async getSnapshots(filter: SnapshotFilter = {}, control: Control = {}): Promise<SnapshotFile[]> {
    const { snapshots, unreadable } = await loadSnapshots(this, control)
    const { onWarning } = this.control(control)
    for (const [id, err] of unreadable) onWarning(unreadableSnapshotWarning(id, err), err)
    return sortSnapshots(snapshots.filter((s) => matchesFilter(s, filter)))
  }

  /**
   * Finds a snapshot from a string: a full id, a unique id prefix, `latest` or `latest~N`
   * (the N-th before the latest), the latter two among snapshots passing `filter` that can be read (an
   * unreadable snapshot file is skipped with a warning). A snapshot named by its id or a prefix that cannot
   * be read fails with its own error.
   */
  async findSnapshot(spec: string, filter: SnapshotFilter = {}, control: Control = {}): Promise<SnapshotFile> {
    return resolveSnapshot(this, spec, filter, control)
  }

  /** Stores a snapshot and returns its id (the snapshot object gets the id too). */
  async saveSnapshot(snap: SnapshotFile, control: Control = {}): Promise<Id> {
    const id = await this.dbe.saveFile('snapshot', serializeSnapshot(snap), { signal: control.signal })
    snap.id = id
    return id
  }

  /**
   * Finds several snapshots at once (each string as for {@link Repository.findSnapshot}), reading the
   * snapshot list once; the result keeps the order given, without repeats.
   */
  async findSnapshots(specs: readonly string[], filter: SnapshotFilter = {}, control: Control = {}): Promise<SnapshotFile[]> {
    return resolveSnapshots(this, specs, filter, control)
  }

  /**
   * The snapshots passing `options.filter` (or the ones `options.snapshots` names), grouped by
   * `options.groupBy` (default host, label, paths; rustic's `get_snapshot_group`): groups ordered by host,
   * label, paths, tags, snapshots oldest first; `options.latest` keeps only the newest N of each group.
   * Holds a shared lock, as restic's `snapshots` does.
   */
  async groupSnapshots(options: GroupSnapshotsOptions = {}, control: Control = {}): Promise<GroupedSnapshots[]> {
    return this.withLock('shared', (lock) => groupSnapshots(this, options, { ...control, signal: lock.signal }), control)
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
    control: Control = {},
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
    control: Control = {},
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
  async planForget(options: ForgetOptions, control: Control = {}): Promise<ForgetPlan> {
    return planForget(this, options, control)
  }

  /**
   * Removes the snapshots a {@link Repository.planForget} plan marks for removal. Fails with `AppendOnly`
   * on an append-only repository, with nothing removed. Their data stays until `prune`, which runs right
   * after when the plan was made with the `prune` option.
   */
  async forget(plan: ForgetPlan, control: Control = {}): Promise<ForgetResult> {
    return forget(this, plan, control)
  }

  /**
   * The key files, the one that opened this object marked `current` (restic's `key list`); a key file
   * that cannot be read is left out with a warning. Holds a shared lock.
   */
  listKeys(control: Control = {}): Promise<KeyInfo[]> {
    return listKeys(this, control)
  }

  /**
   * Adds a key file for another password, for the same master key (restic's `key add`), read back and
   * opened before it counts. Holds a shared lock. Returns its id.
   */
  addKey(password: string, options: AddKeyOptions = {}, control: Control = {}): Promise<Id> {
    return addKey(this, password, options, control)
  }

  /**
   * Removes a key file by id or unique prefix, never the one in use nor the last (restic's `key
   * remove`). Holds the exclusive lock.
   */
  removeKey(key: string, control: Control = {}): Promise<Id> {
    return removeKey(this, key, control)
  }

  /**
   * Replaces the key in use by one for `newPassword` (restic's `key passwd`); this object's `keyId` is
   * the new key afterwards. Holds the exclusive lock.
   */
  async changePassword(newPassword: string, options: AddKeyOptions = {}, control: Control = {}): Promise<ChangePasswordResult> {
    const result = await changePassword(this, newPassword, options, control)
    ;(this as { keyId: Id | undefined }).keyId = result.added
    return result
  }

  /**
   * Changes the config (rustic's `config`; `setVersion: 2` is restic's `migrate upgrade_repo_v2`, after a
   * `check`). Holds the exclusive lock. This object uses the new config afterwards.
   */
  async applyConfig(options: ConfigOptions, control: Control = {}): Promise<ApplyConfigResult> {
    const result = await applyConfig(this, options, control)
    if (result.changed) {
      const self = this as { config: ConfigFile; dbe: DecryptBackend }
      self.config = result.config
      self.dbe = configDecryptBackend(this.backend, this.key, result.config, this.options)
    }
    return result
  }

  /**
   * Counts and sizes of files, blobs and packs, the compression ratio and the blobs no snapshot uses
   * (rustic's `repoinfo`). Holds a shared lock.
   */
  repoInfo(options: RepoInfoOptions = {}, control: Control = {}): Promise<RepoInfo> {
    return repoInfo(this, options, control)
  }

  /**
   * The content of a repository file as restic's `cat` prints it: the decrypted JSON of the config, a
   * snapshot or an index file, or a key file as stored (key files are not encrypted). `id` is a full id
   * or a unique prefix (ignored for `config`). Holds a shared lock, as restic's `cat` does. Blobs and
   * trees: {@link IndexedRepository.catBlob}, {@link IndexedRepository.catTree}.
   */
  async catFile(type: CatFileType, id = '', control: Control = {}): Promise<Uint8Array> {
    return this.withLock(
      'shared',
      async ({ signal }) => {
        if (type === 'config') return this.dbe.readEncryptedFull('config', CONFIG_ID, { signal })
        const full = findIdByPrefix(await this.backend.list(type, { signal }), id, type)
        return type === 'key' ? this.backend.readFull('key', full, { signal }) : this.dbe.readEncryptedFull(type, full, { signal })
      },
      control,
    )
  }

  /**
   * Loads every index file into memory and returns the indexed repository (rustic_core's
   * `Repository<Indexed>`). Takes no lock: the indexed repository's commands take theirs and load the
   * index again if another client rewrote it meanwhile.
   */
  async toIndexed(control: Control = {}): Promise<IndexedRepository> {
    return IndexedRepository.load(this, control)
  }

  /**
   * Takes restic's lock of `kind` (`shared` for backup and reads, `exclusive` for commands that delete),
   * or shares the one this object already holds; see {@link LockHandle}. With `lock: false` the handle
   * does nothing. Release it when done (closing the repository releases every lock).
   * @throws RepositoryLockedError (code `RepositoryLocked`) naming the other client's lock, once
   * `retryLockMs` has passed; RusticError `Aborted`.
   */
  lock(kind: LockKind, control: Control = {}): Promise<LockHandle> {
    return this.#locker.acquire(kind, control)
  }

  /**
   * Runs `fn` holding a lock of `kind` (see {@link Repository.lock}), released afterwards. `fn` gets the
   * handle: pass `lock.signal` to its work and call `lock.verify()` before a step that needs the lock.
   * The commands called inside share the lock. A lock lost meanwhile fails the call with `LockLost`.
   */
  withLock<T>(kind: LockKind, fn: (lock: LockHandle) => Promise<T>, control: Control = {}): Promise<T> {
    return this.#locker.withLock(kind, fn, control)
  }

  /**
   * {@link Repository.withLock} for work that reads the repository and writes nothing to it (such as a
   * restore): `fn` starts as soon as this process's lock file is written, during restic's wait (200 ms)
   * before the second look for other clients' locks, and the call returns once the lock is confirmed. No
   * other client changes the repository before its own second look, which sees this lock, so what `fn`
   * reads meanwhile is what it would read under the lock. If the second look finds a conflicting lock,
   * `lock.signal` aborts and the call fails with `RepositoryLocked`; `lock.verify()` waits for the second
   * look. Commands called inside share the lock at once. With `retryLockMs`, or a lock already held or
   * being taken, this is {@link Repository.withLock}.
   */
  withLockEarly<T>(kind: LockKind, fn: (lock: LockHandle) => Promise<T>, control: Control = {}): Promise<T> {
    return this.#locker.withLockEarly(kind, fn, control)
  }

  /**
   * Removes stale locks (older than 30 minutes, or made on this host by a process that no longer runs),
   * or every lock with `removeAll` (restic's `unlock`). Takes no lock itself.
   */
  unlock(options: UnlockOptions = {}, control: Control = {}): Promise<UnlockResult> {
    return unlock(this, options, control)
  }

  /**
   * Checks the repository's integrity (restic's and rustic's `check`), reading the repository itself,
   * never the cache; problems are findings in the result. See {@link CheckOptions}.
   */
  async check(options: CheckOptions = {}, control: Control = {}): Promise<CheckResult> {
    // the verify workers (with readData) start loading before the lock file is written
    const prepared = prepareCheck(this, options)
    try {
      // check only reads the repository: it starts during the lock's wait for a second look at the other locks
      return await this.#locker.withLockEarly('exclusive', (lock) => prepared.run({ ...control, signal: lock.signal }), control)
    } finally {
      await prepared.close()
    }
  }

  /** Works out how `repair index` would rebuild the index from the pack headers, writing nothing (and taking no lock). */
  planRepairIndex(options: RepairIndexOptions = {}, control: Control = {}): Promise<RepairIndexPlan> {
    return planRepairIndex(this, options, control)
  }

  /** Carries out a plan of {@link Repository.planRepairIndex}: new index files first, then the old ones removed. */
  repairIndex(plan: RepairIndexPlan, control: Control = {}): Promise<RepairIndexResult> {
    return this.withLock('exclusive', (lock) => repairIndex(this, plan, { ...control, signal: lock.signal }), control)
  }

  /** The files of one kind, with their sizes (restic's `list packs|index|snapshots|keys|locks`). */
  listFiles(kind: ListFileKind, control: Control = {}): Promise<ListedFile[]> {
    // restic lists under a shared lock, but `locks` without one
    if (kind === 'locks') return listFiles(this, kind, control)
    return this.withLock('shared', (lock) => listFiles(this, kind, { ...control, signal: lock.signal }), control)
  }

  /** Every blob every index file lists, with its pack (restic's `list blobs`). */
  async *listBlobs(control: Control = {}): AsyncGenerator<ListedBlob> {
    const lock = await this.lock('shared', control)
    try {
      yield* listBlobs(this, { ...control, signal: lock.signal })
    } finally {
      await lock.release()
    }
  }

  /**
   * Plans a prune: what becomes of every pack (keep, repack, mark for deletion, delete, recover) and the
   * numbers; changes nothing. Holds an exclusive lock meanwhile (unless `ignoreLocks`): fails with
   * `RepositoryLocked`, naming the lock, while another client holds one. `AppendOnly` for an append-only
   * repository unless `dryRun`; `BlobNotFound`, `PackNotFound`, `PackSizeMismatch` for a damaged one.
   */
  planPrune(options: PruneOptions = {}, control: Control = {}): Promise<PrunePlan> {
    return planPrune(this, options, control)
  }

  /**
   * Carries out a prune plan: repacks, writes new index files (marks under `packs_to_delete`), and only
   * then removes the old index files and the packs to delete. Refuses a plan the repository has moved
   * away from (`RepositoryChanged`), an append-only repository or server (`AppendOnly`), before writing.
   */
  prune(plan: PrunePlan, control: Control = {}): Promise<PruneResult> {
    return prune(this, plan, control)
  }

  /** @internal Throws `RepositoryClosed` once {@link close} has run (every backend call does). */
  assertOpen(): void {
    if (this.backend instanceof CloseGuardBackend) this.backend.check()
  }

  /**
   * Releases this object's locks, then backend resources (connections, child processes). Afterwards every
   * call on it (and on the objects made from it: `withCompression`, `toIndexed`) fails with
   * `RepositoryClosed`. Closing again does nothing.
   */
  async close(): Promise<void> {
    await this.#locker.releaseAll()
    await this.backend.close?.()
  }
}

/**
 * The encryption layer of a repository, compressing as its config asks (rustic's `compression`:
 * unset = auto, 0 = off, else a zstd level).
 */
function configDecryptBackend(backend: WriteBackend, key: Key, config: ConfigFile, options: RepositoryOptions): DecryptBackend {
  const auto = config.version === 2 && config.compression === undefined
  const level = config.version === 1 ? undefined : auto ? compressionLevel('auto') : config.compression === 0 ? undefined : config.compression
  return new DecryptBackend(backend, key, config.version, level, { compressionAuto: auto, onWarning: options.onWarning })
}

/** Sorts snapshots oldest first (by time, then id). */
export function sortSnapshots(snaps: SnapshotFile[]): SnapshotFile[] {
  // each time parsed once, not at every comparison
  const keyed = snaps.map((s) => ({ s, ms: Date.parse(s.time) }))
  keyed.sort((x, y) => {
    const d = x.ms - y.ms
    if (d !== 0 && !Number.isNaN(d)) return d
    const a = x.s
    const b = y.s
    return a.time < b.time ? -1 : a.time > b.time ? 1 : (a.id ?? '') < (b.id ?? '') ? -1 : 1
  })
  for (let i = 0; i < keyed.length; i++) snaps[i] = keyed[i]!.s
  return snaps
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

