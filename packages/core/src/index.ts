/**
 * Core of rustic-ts: the restic repository format, crypto, backends, blob and index layer,
 * `Repository` and every command. This is the stable API; `docs/api-surface.md` lists each name.
 * `@rustic-ts/core/internal` has the rest, for sibling packages and tests (no stability promise).
 * @packageDocumentation
 */

// Repository and its commands
export { Repository, InitOptionsSchema, AddKeyOptionsSchema } from './repository/Repository.js'
export type { InitOptions, AddKeyOptions, CatFileType, KeyInfo } from './repository/Repository.js'
export { IndexedRepository, WalkOptionsSchema, ReadFileOptionsSchema } from './repository/IndexedRepository.js'
export type { WalkEntry, WalkOptions, ReadFileOptions } from './repository/IndexedRepository.js'
export { RepositoryOptionsSchema } from './repository/RepositoryOptions.js'
export type { RepositoryOptions, RepositoryBackends, CacheFactory } from './repository/RepositoryOptions.js'
export type { Credentials } from './repository/Credentials.js'
export { SnapshotFilterSchema } from './repository/SnapshotFilter.js'
export type { SnapshotFilter } from './repository/SnapshotFilter.js'
export { ControlSchema } from './progress/Control.js'
export type { Control } from './progress/Control.js'
export { noProgress } from './progress/Progress.js'
export type { Progress, ProgressFactory, ProgressKind, WarningHandler } from './progress/Progress.js'

// backup
export { BackupOptionsSchema } from './commands/backup/backup.js'
export type { BackupOptions, BackupResult } from './commands/backup/backup.js'
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
  PlanAction,
  PlanEntry,
  PlanRemoval,
  PlannedFile,
  PlannedBlob,
  PackRead,
} from './commands/restore/RestorePlan.js'
export type { FsPath } from './commands/restore/fsPath.js'

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
export { Key } from './crypto/Key.js'
export type { KdfParams } from './crypto/kdf.js'

// errors and options
export { RusticError, ERROR_CODES, isRusticError, throwIfAborted } from './error/RusticError.js'
export type { ErrorKind, ErrorCode, RusticErrorOptions } from './error/RusticError.js'
export { BackendError, isBackendError, isNotFound } from './backend/BackendError.js'
export type { BackendErrorKind, BackendErrorOptions } from './backend/BackendError.js'
export { parseOptions } from './util/parseOptions.js'

// backends: the contract, helpers for writing one, decorators
export { CONFIG_ID } from './backend/Backend.js'
export type { ReadBackend, WriteBackend, FileWriter, CallOptions } from './backend/Backend.js'
export { FILE_TYPE_DIR, filePath } from './backend/FileType.js'
export type { FileType } from './backend/FileType.js'
export { checkRange } from './backend/checkRange.js'
export { MemoryBackend } from './backend/MemoryBackend.js'
export { ForwardingBackend } from './backend/ForwardingBackend.js'
export { RetryBackend, RetryOptionsSchema } from './backend/RetryBackend.js'
export type { RetryOptions, OnRetry } from './backend/RetryBackend.js'
export { HotColdBackend } from './backend/HotColdBackend.js'
export { WarmUpBackend, WarmUpOptionsSchema } from './backend/WarmUpBackend.js'
export type { WarmUpOptions } from './backend/WarmUpBackend.js'
export { DryRunBackend } from './backend/DryRunBackend.js'
