/**
 * rustic-ts: encrypted, deduplicated backups in the restic repository format.
 * This batteries-included package re-exports the stable API of `@rustic-ts/core` and of every
 * backend and cache package, and resolves repository strings (`rest:...`, `rclone:...`,
 * `opendal:...`, a path) to backends. `docs/api-surface.md` lists each name.
 * @packageDocumentation
 */

// @rustic-ts/core
export {
  Repository,
  InitOptionsSchema,
  AddKeyOptionsSchema,
  IndexedRepository,
  WalkOptionsSchema,
  ReadFileOptionsSchema,
  RepositoryOptionsSchema,
  SnapshotFilterSchema,
  RepositoryLockedError,
  releaseAllLocks,
  UnlockOptionsSchema,
  ControlSchema,
  noProgress,
  BackupOptionsSchema,
  LocalSourceOptionsSchema,
  StreamSource,
  CommandSource,
  RestoreOptionsSchema,
  timePrecision,
  GroupSnapshotsOptionsSchema,
  SnapshotGroupCriterionSchema,
  SnapshotModificationSchema,
  DeleteSnapshotsOptionsSchema,
  ForgetOptionsSchema,
  KeepOptionsSchema,
  CheckOptionsSchema,
  hasErrors,
  RepairIndexOptionsSchema,
  RepairSnapshotsOptionsSchema,
  PruneOptionsSchema,
  LsOptionsSchema,
  FindOptionsSchema,
  DiffOptionsSchema,
  DumpOptionsSchema,
  lsNodeJson,
  findNodeJson,
  longListingLine,
  isId,
  parseId,
  shortId,
  hashId,
  goTimeToDate,
  Key,
  RusticError,
  ERROR_CODES,
  isRusticError,
  throwIfAborted,
  BackendError,
  isBackendError,
  isNotFound,
  parseOptions,
  CONFIG_ID,
  ALL_FILE_TYPES,
  FILE_TYPE_DIR,
  filePath,
  checkRange,
  LayoutChoiceSchema,
  LayoutResolver,
  DEFAULT_LAYOUT,
  S3LEGACY_LAYOUT,
  hasIdName,
  MemoryBackend,
  ForwardingBackend,
  RetryBackend,
  RetryOptionsSchema,
  HotColdBackend,
  WarmUpBackend,
  WarmUpOptionsSchema,
  DryRunBackend,
} from '@rustic-ts/core'
export type {
  InitOptions,
  AddKeyOptions,
  CatFileType,
  KeyInfo,
  WalkEntry,
  WalkOptions,
  ReadFileOptions,
  RepositoryOptions,
  RepositoryBackends,
  CacheFactory,
  Credentials,
  SnapshotFilter,
  LockKind,
  LockHandle,
  LockInfo,
  StaleReason,
  UnlockOptions,
  UnlockResult,
  Control,
  Progress,
  ProgressFactory,
  ProgressKind,
  WarningHandler,
  BackupOptions,
  BackupResult,
  SnapshotOptions,
  SkippedEntry,
  ReadSource,
  ReadSourceEntry,
  ContentOpener,
  SourceSize,
  SourceEntriesOptions,
  LocalSourceOptions,
  XattrReader,
  StreamInput,
  RestoreOptions,
  ResolvedRestoreOptions,
  RestorePlan,
  RestorePlanStats,
  RestoreStats,
  PlanAction,
  PlanEntry,
  PlanRemoval,
  PlannedFile,
  PlannedBlob,
  PackRead,
  FsPath,
  TimePrecision,
  GroupSnapshotsOptions,
  GroupedSnapshots,
  SnapshotGroup,
  SnapshotGroupCriterion,
  SnapshotModification,
  ModifySnapshotsResult,
  ModifiedSnapshot,
  DeleteSnapshotsOptions,
  DeleteSnapshotsResult,
  ForgetOptions,
  KeepOptions,
  CalendarDuration,
  ForgetPlan,
  ForgetGroup,
  ForgetSnapshot,
  KeepCounters,
  ForgetResult,
  CheckOptions,
  CheckResult,
  CheckFinding,
  CheckFindingKind,
  CheckLevel,
  CheckSummary,
  RepairIndexOptions,
  RepairIndexPlan,
  UnreadablePack,
  RepairIndexResult,
  RepairSnapshotsOptions,
  RepairSnapshotsPlan,
  SnapshotRepair,
  RepairChange,
  RepairSnapshotsResult,
  ListFileKind,
  ListedFile,
  ListedBlob,
  PruneOptions,
  ResolvedPruneOptions,
  SizeLimit,
  PrunePlan,
  PrunePack,
  PackAction,
  PackStatus,
  PruneStats,
  PruneBlobStats,
  PruneTotals,
  PackCount,
  PruneResult,
  LsOptions,
  FindOptions,
  FindResult,
  DiffOptions,
  DiffResult,
  DiffChange,
  DiffStats,
  DiffItemStats,
  DumpOptions,
  Id,
  SnapshotFile,
  SnapshotSummary,
  DeleteOption,
  Node,
  ExtendedAttribute,
  NodeType,
  ConfigFile,
  KeyFile,
  BlobType,
  CompressionMode,
  KdfParams,
  ErrorKind,
  ErrorCode,
  RusticErrorOptions,
  BackendErrorKind,
  BackendErrorOptions,
  ReadBackend,
  WriteBackend,
  FileWriter,
  CallOptions,
  FileType,
  LayoutChoice,
  LayoutName,
  RepositoryLayout,
  CacheLayer,
  RetryOptions,
  OnRetry,
  WarmUpOptions,
} from '@rustic-ts/core'

// @rustic-ts/backend-local
export { LocalBackend, LocalBackendOptionsSchema, fsError } from '@rustic-ts/backend-local'
export type { LocalBackendOptions } from '@rustic-ts/backend-local'

// @rustic-ts/backend-rest
export {
  RestBackend,
  RestBackendOptionsSchema,
  RestProtocolBackend,
  UndiciTransport,
} from '@rustic-ts/backend-rest'
export type {
  RestBackendOptions,
  RestProtocolOptions,
  RestTransport,
  RestRequest,
  RestResponse,
  RestMethod,
  UndiciTransportOptions,
} from '@rustic-ts/backend-rest'

// @rustic-ts/backend-rclone
export { RcloneBackend, RcloneBackendOptionsSchema, MIN_RCLONE_VERSION } from '@rustic-ts/backend-rclone'
export type { RcloneBackendOptions } from '@rustic-ts/backend-rclone'

// @rustic-ts/backend-opendal
export { OpenDalBackend, OpenDalBackendOptionsSchema } from '@rustic-ts/backend-opendal'
export type { OpenDalBackendOptions } from '@rustic-ts/backend-opendal'

// @rustic-ts/cache
export {
  CachedBackend,
  CachedBackendOptionsSchema,
  LruBlobCache,
  LruBlobCacheOptionsSchema,
  defaultCacheBase,
  defaultCacheDir,
} from '@rustic-ts/cache'
export type { CachedBackendOptions, CacheWarningHandler, LruBlobCacheOptions } from '@rustic-ts/cache'

// repository strings and the batteries-included open/init
export { backendsFromOptions, backendFromString } from './backendsFromOptions.js'
export type { BackendOptions } from './backendsFromOptions.js'
export { openRepository, initRepository, withDefaultCache } from './openRepository.js'

// config profiles (rustic's TOML profiles)
export { loadProfiles, profileDirs } from './profile/loadProfiles.js'
export type { LoadProfilesOptions } from './profile/loadProfiles.js'
export type { Profile, ProfileRepository, ProfileBackup, ProfileBackupSnapshot, ProfileGlobal } from './profile/Profile.js'
export type { ProfileSettings } from './profile/readProfileFile.js'

import { LocalBackend } from '@rustic-ts/backend-local'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'
import { RcloneBackend } from '@rustic-ts/backend-rclone'
import { RestBackend } from '@rustic-ts/backend-rest'
import { registerBackendClasses } from './backendsFromOptions.js'

registerBackendClasses({ LocalBackend, RestBackend, RcloneBackend, OpenDalBackend })
