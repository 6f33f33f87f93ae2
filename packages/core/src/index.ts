/**
 * Core of rustic-ts: the restic repository format, crypto, backends, blob and index layer,
 * `Repository` and every command. This is the stable API; `docs/api-surface.md` lists each name.
 * `@rustic-ts/core/internal` has the rest, for sibling packages and tests (no stability promise).
 * @packageDocumentation
 */

// Repository and its commands
export { Repository, InitOptionsSchema } from './repository/Repository.js'
export type { InitOptions, CatFileType } from './repository/Repository.js'
export { IndexedRepository, WalkOptionsSchema, ReadFileOptionsSchema } from './repository/IndexedRepository.js'
export type { WalkEntry, WalkOptions, ReadFileOptions } from './repository/IndexedRepository.js'
export { RepositoryOptionsSchema } from './repository/RepositoryOptions.js'
export type { RepositoryOptions, RepositoryBackends, CacheFactory } from './repository/RepositoryOptions.js'
export type { Credentials } from './repository/Credentials.js'
export { SnapshotFilterSchema } from './repository/SnapshotFilter.js'
export type { SnapshotFilter } from './repository/SnapshotFilter.js'
export { RepositoryLockedError } from './repository/lock/RepositoryLockedError.js'
export type { LockHandle } from './repository/lock/RepositoryLocker.js'
export type { LockKind } from './repository/lock/LockTiming.js'
export type { LockInfo, StaleReason } from './repository/lock/LockInfo.js'
export { releaseAllLocks } from './repository/lock/lockRegistry.js'
export { UnlockOptionsSchema } from './commands/unlock.js'
export type { UnlockOptions, UnlockResult } from './commands/unlock.js'
export { ControlSchema } from './progress/Control.js'
export type { Control } from './progress/Control.js'
export { noProgress } from './progress/Progress.js'
export type { Progress, ProgressFactory, ProgressKind, WarningHandler } from './progress/Progress.js'

// backup
export { BackupOptionsSchema } from './commands/backup/BackupOptions.js'
export type { BackupOptions } from './commands/backup/BackupOptions.js'
export type { BackupResult } from './commands/backup/backup.js'
export type { SnapshotOptions } from './commands/backup/SnapshotOptions.js'
export type { SkippedEntry } from './archiver/BackupStats.js'
export type { ReadSource, ReadSourceEntry, ContentOpener, SourceSize, SourceEntriesOptions } from './archiver/ReadSource.js'
export { LocalSourceOptionsSchema } from './archiver/sources/LocalSourceOptions.js'
export type { LocalSourceOptions, XattrReader } from './archiver/sources/LocalSourceOptions.js'
export { StreamSource } from './archiver/sources/StreamSource.js'
export type { StreamInput } from './archiver/sources/StreamSource.js'
export { CommandSource } from './archiver/sources/CommandSource.js'

// restore
export { RestoreOptionsSchema } from './commands/restore/RestoreOptions.js'
export type { RestoreOptions, ResolvedRestoreOptions } from './commands/restore/RestoreOptions.js'
export type {
  RestorePlan,
  RestorePlanStats,
  RestoreStats,
  DamagedFile,
  PlanAction,
  PlanEntry,
  PlanRemoval,
  PlannedFile,
  PlannedBlob,
  PackRead,
} from './commands/restore/RestorePlan.js'
export type { FsPath } from './commands/restore/fsPath.js'
export { PlanEntries } from './commands/restore/PlanEntries.js'
export { PlannedFiles } from './commands/restore/PlannedFiles.js'
export { PackReads } from './commands/restore/PackReads.js'
export { RestoreWorkers } from './commands/restore/RestoreWorkers.js'
export { timePrecision } from './util/nativeTimes.js'
export type { TimePrecision } from './util/nativeTimes.js'

// snapshots: groups, changes, deletion, forget
export { GroupSnapshotsOptionsSchema } from './commands/snapshots/groupSnapshots.js'
export type { GroupSnapshotsOptions, GroupedSnapshots } from './commands/snapshots/groupSnapshots.js'
export type { SnapshotGroup } from './commands/snapshots/SnapshotGroup.js'
export { SnapshotGroupCriterionSchema } from './commands/snapshots/SnapshotGroupCriterion.js'
export type { SnapshotGroupCriterion } from './commands/snapshots/SnapshotGroupCriterion.js'
export { SnapshotModificationSchema } from './commands/tag/SnapshotModification.js'
export type { SnapshotModification } from './commands/tag/SnapshotModification.js'
export type { ModifySnapshotsResult, ModifiedSnapshot } from './commands/tag/modifySnapshots.js'
export { DeleteSnapshotsOptionsSchema } from './commands/snapshots/deleteSnapshots.js'
export type { DeleteSnapshotsOptions, DeleteSnapshotsResult } from './commands/snapshots/deleteSnapshots.js'
export { ForgetOptionsSchema } from './commands/forget/planForget.js'
export type { ForgetOptions } from './commands/forget/planForget.js'
export { KeepOptionsSchema } from './commands/forget/KeepOptions.js'
export type { KeepOptions } from './commands/forget/KeepOptions.js'
export type { CalendarDuration } from './commands/forget/CalendarDuration.js'
export type { ForgetPlan, ForgetGroup, ForgetSnapshot, KeepCounters } from './commands/forget/ForgetPlan.js'
export type { ForgetResult } from './commands/forget/forget.js'

// check, repair, list
export { CheckOptionsSchema } from './commands/check/CheckOptions.js'
export type { CheckOptions } from './commands/check/CheckOptions.js'
export { hasErrors } from './commands/check/CheckFinding.js'
export type { CheckResult, CheckFinding, CheckFindingKind, CheckLevel, CheckSummary } from './commands/check/CheckFinding.js'
export { RepairIndexOptionsSchema } from './commands/repair/planRepairIndex.js'
export type { RepairIndexOptions, RepairIndexPlan, UnreadablePack } from './commands/repair/planRepairIndex.js'
export type { RepairIndexResult } from './commands/repair/repairIndex.js'
export { RepairSnapshotsOptionsSchema } from './commands/repair/planRepairSnapshots.js'
export type { RepairSnapshotsOptions, RepairSnapshotsPlan, SnapshotRepair } from './commands/repair/planRepairSnapshots.js'
export type { RepairSnapshotsResult } from './commands/repair/repairSnapshots.js'
export type { RepairChange } from './commands/repair/TreeRepairer.js'
export type { ListFileKind, ListedFile, ListedBlob } from './commands/list.js'

// prune
export { PruneOptionsSchema } from './commands/prune/PruneOptions.js'
export type { PruneOptions, ResolvedPruneOptions, SizeLimit } from './commands/prune/PruneOptions.js'
export type {
  PrunePlan,
  PrunePack,
  PackAction,
  PackStatus,
  PruneStats,
  PruneBlobStats,
  PruneTotals,
  PackCount,
  PruneResult,
} from './commands/prune/PrunePlan.js'
// keys, config, repoinfo
export { AddKeyOptionsSchema } from './commands/key/addKey.js'
export type { AddKeyOptions } from './commands/key/addKey.js'
export type { KeyInfo } from './commands/key/listKeys.js'
export type { ChangePasswordResult } from './commands/key/changePassword.js'
export { ConfigOptionsSchema } from './commands/config/ConfigOptions.js'
export type { ConfigOptions } from './commands/config/ConfigOptions.js'
export type { ApplyConfigResult } from './commands/config/applyConfig.js'
export { RepoInfoOptionsSchema } from './commands/repoinfo/repoInfo.js'
export type { RepoInfoOptions, RepoInfo, RepoFileInfo, BlobInfo, PackInfo } from './commands/repoinfo/repoInfo.js'

// copy, merge, stats
export { CopyOptionsSchema, snapshotsToCopy } from './commands/copy/planCopy.js'
export type { CopyOptions, CopyPlan, CopySnapshotPlan } from './commands/copy/planCopy.js'
export type { CopyResult, CopiedSnapshot } from './commands/copy/copy.js'
export { MergeOptionsSchema } from './commands/merge/mergeSnapshots.js'
export type { MergeOptions, MergeResult } from './commands/merge/mergeSnapshots.js'
export { StatsOptionsSchema, StatsModeSchema } from './commands/stats/stats.js'
export type { StatsOptions, StatsMode, StatsResult } from './commands/stats/stats.js'
export type { PackerStats } from './blob/Packer.js'

// ls, find, diff, dump
export { LsOptionsSchema } from './commands/ls.js'
export type { LsOptions } from './commands/ls.js'
export { FindOptionsSchema } from './commands/find.js'
export type { FindOptions, FindResult } from './commands/find.js'
export { DiffOptionsSchema } from './commands/diff.js'
export type { DiffOptions, DiffResult, DiffChange, DiffStats, DiffItemStats } from './commands/diff.js'
export { DumpOptionsSchema } from './commands/dump.js'
export type { DumpOptions } from './commands/dump.js'
export { lsNodeJson, findNodeJson, longListingLine } from './commands/nodeFormat.js'

// repository objects
export type { Id } from './id/Id.js'
export { isId, parseId, shortId, hashId } from './id/Id.js'
export type { SnapshotFile } from './repofile/SnapshotFile.js'
export type { SnapshotSummary } from './repofile/SnapshotSummary.js'
export type { DeleteOption } from './repofile/DeleteOption.js'
export type { Node, ExtendedAttribute } from './repofile/Node.js'
export type { NodeType } from './repofile/NodeType.js'
export type { ConfigFile } from './repofile/ConfigFile.js'
export type { KeyFile } from './repofile/KeyFile.js'
export type { BlobType } from './repofile/IndexFile.js'
export { goTimeToDate } from './repofile/goTime.js'
export type { CompressionMode } from './compression/CompressionMode.js'
export { zstdProviders, zstdProvider, setZstdProvider } from './compression/Zstd.js'
export type { ZstdProvider } from './compression/Zstd.js'
export { Key } from './crypto/Key.js'
export { deriveKey } from './crypto/kdf.js'
export type { KdfParams, KeyDeriver } from './crypto/kdf.js'

// errors and options
export { RusticError, ERROR_CODES, isRusticError, throwIfAborted } from './error/RusticError.js'
export type { ErrorKind, ErrorCode, RusticErrorOptions } from './error/RusticError.js'
export { BackendError, isBackendError, isNotFound } from './backend/BackendError.js'
export type { BackendErrorKind, BackendErrorOptions } from './backend/BackendError.js'
export { parseOptions } from './util/parseOptions.js'

// backends: the contract, helpers for writing one, decorators
export { CONFIG_ID } from './backend/Backend.js'
export type { ReadBackend, WriteBackend, FileWriter, CallOptions, ReadPartialOptions } from './backend/Backend.js'
export { ALL_FILE_TYPES, FILE_TYPE_DIR, filePath } from './backend/FileType.js'
export type { FileType } from './backend/FileType.js'
export { checkRange } from './backend/checkRange.js'
export { LayoutChoiceSchema, LayoutResolver, DEFAULT_LAYOUT, S3LEGACY_LAYOUT, hasIdName } from './backend/RepositoryLayout.js'
export type { LayoutChoice, LayoutName, RepositoryLayout } from './backend/RepositoryLayout.js'
export type { CacheLayer } from './backend/CacheLayer.js'
export { MemoryBackend } from './backend/MemoryBackend.js'
export { ForwardingBackend } from './backend/ForwardingBackend.js'
export { RetryBackend, RetryOptionsSchema } from './backend/RetryBackend.js'
export type { RetryOptions, OnRetry } from './backend/RetryBackend.js'
export { HotColdBackend } from './backend/HotColdBackend.js'
export { WarmUpBackend, WarmUpOptionsSchema } from './backend/WarmUpBackend.js'
export type { WarmUpOptions } from './backend/WarmUpBackend.js'
export { DryRunBackend } from './backend/DryRunBackend.js'
