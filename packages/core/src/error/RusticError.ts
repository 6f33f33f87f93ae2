/** Error kinds, as in rustic_core. */
export type ErrorKind =
  | 'Backend'
  | 'Configuration'
  | 'Credentials'
  | 'Cryptography'
  | 'InvalidInput'
  | 'InputOutput'
  | 'Repository'
  | 'Unsupported'
  | 'Verification'
  | 'AppendOnly'
  | 'ExternalCommand'
  | 'Internal'

/**
 * Every error code rustic-ts uses, with what it means. A `RusticError` made without a code has its
 * kind as its code; a `BackendError`'s code is its `backendKind`.
 */
export const ERROR_CODES = {
  // kinds (the code of an error made without one)
  Backend: 'a backend failed',
  Configuration: 'a setting is wrong or missing',
  Credentials: 'the credentials cannot be used',
  Cryptography: 'a cryptographic check failed',
  InvalidInput: 'an argument or a repository file is invalid',
  InputOutput: 'a local file could not be read or written',
  Repository: 'the repository is damaged or not usable',
  Unsupported: 'a feature is not available on this platform or for this repository',
  Verification: 'data does not match its id',
  AppendOnly: 'an append-only backend refused a removal',
  ExternalCommand: 'an external command failed',
  Internal: 'a bug or a broken invariant inside rustic-ts',
  // backend failures (`BackendError.backendKind`)
  NotFound: 'the backend has no such file',
  AlreadyExists: 'the backend already has the file',
  PermissionDenied: 'the backend refused access',
  Network: 'the backend could not be reached (transient)',
  Transient: 'the backend failed in a way that may pass (retried)',
  Invalid: 'the backend was called with invalid arguments',
  Other: 'the backend failed for another reason',
  // repository and credentials
  IncorrectPassword: 'no key file opens with the password',
  NoPassword: 'no password was given, or it is empty',
  InvalidCredentials: 'the credentials object is malformed',
  NoKeys: 'the repository has no key files',
  RepositoryNotFound: 'there is no repository (no config file) at the location',
  RepositoryExists: 'init found a repository already there',
  HotRepositoryMismatch: 'the hot repository does not belong to the cold one',
  UnsupportedVersion: 'the repository format version is not supported',
  RepositoryChanged: 'the repository changed since a plan was made: make the plan again',
  CheckFailed: 'check found errors in the repository',
  ConfigChanged: 'another client changed the config since the repository was opened: open it again',
  ConfigWriteFailed: 'the new config could not be written (the old one was put back where possible)',
  KeyVerificationFailed: 'a new key file did not open the repository when read back, so it was removed again',
  NoCurrentKey: 'the repository was opened with a master key: there is no key in use to replace',
  KeyInUse: 'the key that opened the repository cannot be removed',
  LastKey: "the repository's last key cannot be removed",
  SameRepository: 'the source and the target of a copy are the same repository',
  RepositoryClosed: 'the repository object was closed: open it again to use it',
  // ids, snapshots, paths
  AmbiguousId: 'an id prefix matches more than one id',
  IdNotFound: 'no id or snapshot matches',
  SnapshotProtected: 'a snapshot is protected by its delete policy (never, or a time to come)',
  InvalidId: 'a string is not a valid id',
  BlobNotFound: 'a blob the trees need is not in the index',
  PackNotFound: 'a pack the index names is not in the repository',
  PackSizeMismatch: 'a pack file has another size than the index gives it',
  PathNotFound: 'a path does not exist in the snapshot',
  NotADirectory: 'a directory was expected',
  NotAFile: 'a file was expected',
  // integrity
  IntegrityError: 'content does not hash to its id',
  MacMismatch: 'a ciphertext failed its MAC check (tampered or wrong key)',
  DecodeError: 'a repository file or value cannot be decoded',
  DuplicateName: 'a tree has two nodes of the same name',
  BlobTooLarge: 'a blob is too large for a pack',
  InvalidKey: 'a key file or key part is malformed',
  InvalidKdfParams: 'scrypt parameters are out of range',
  InvalidPolynomial: 'a chunker polynomial is not usable',
  // options and arguments
  InvalidOptions: 'an options object has a wrong or unknown field',
  UnknownOption: 'a backend option is not known',
  InvalidArgument: 'a command argument is not valid',
  MissingArgument: 'a command argument is missing',
  NoPaths: 'a backup was given nothing to back up',
  SourcePathsMissing: 'none of the paths given to back up exists',
  NoPattern: 'find was given no pattern',
  InvalidTime: 'a time cannot be parsed',
  NoKeepOption: 'forget was given no keep option (use keepNone to remove every snapshot)',
  InvalidSize: 'a size cannot be parsed',
  InvalidDuration: 'a duration cannot be parsed',
  InvalidCompression: 'a compression mode or level is not valid',
  InvalidPattern: 'an include or exclude pattern is malformed',
  InvalidCommand: 'a command line cannot be parsed',
  InvalidUrl: 'a repository URL is not valid',
  InvalidConfigFile: 'a configuration file cannot be read or parsed',
  InvalidProfile: 'a profile file has a TOML syntax error, an unknown key or a value of the wrong type',
  ProfileNotFound: 'a profile named with -P or use-profiles has no file',
  ProfileCycle: 'profiles name each other in use-profiles, in a cycle',
  BackupsFailed: 'some of the backups of a profile\'s [[backup.snapshots]] entries failed (the others were saved)',
  CopiesFailed: 'copying into some of the copy targets failed (the others were copied into)',
  NoRepository: 'no repository was named',
  UnsupportedBackend: 'a repository string names an unknown backend',
  BackendNotLoaded: 'a backend class was used before it was loaded',
  // sources and restore
  ReadFailed: 'a file to back up could not be read',
  AlreadyRead: 'a stream source was read twice',
  ChangedType: 'a file changed its type while it was backed up',
  SourceOrder: 'a backup source yielded entries out of order',
  NoOpener: 'a backup source yielded a file without content',
  UnsafeName: 'a snapshot entry has a name that is unsafe to restore',
  UnsafeTarget: 'a restore target is empty, or delete would reach / or the repository',
  RestoreIo: 'restore could not write into the target',
  // external programs
  CommandFailed: 'an external command exited with an error',
  RcloneNotFound: 'the rclone program was not found',
  RcloneTooOld: 'the rclone program is too old',
  RcloneFailed: 'rclone failed',
  RcloneTimeout: 'rclone did not answer in time',
  // REST server
  ListenFailed: 'the server cannot listen on its address',
  HtpasswdUnreadable: 'the htpasswd file cannot be read',
  // locks
  RepositoryLocked: 'another process holds a conflicting lock on the repository',
  LockLost: 'the repository lock could not be refreshed in time, so the operation stopped',
  // native modules
  CompressionUnavailable: 'no zstd compressor loads here, and compressed writes were asked for',
  NativeModuleUnavailable: 'a native package a feature needs does not load on this platform',
  // concurrent backups in one process
  SharedBlobLost: 'a concurrent backup that was storing shared data failed, so this one saved nothing',
  // control
  Aborted: 'the operation was aborted through its signal',
} as const satisfies Record<string, string>

/**
 * Stable error codes that callers may match on: a key of {@link ERROR_CODES}, or a Node errno code
 * (`ENOENT`, `EACCES`, ...) carried by an error about a local file.
 */
export type ErrorCode = keyof typeof ERROR_CODES | `E${Uppercase<string>}`

/** Options for {@link RusticError}. */
export interface RusticErrorOptions {
  /** Stable code for programmatic matching. */
  code?: ErrorCode
  /** The underlying error. */
  cause?: unknown
}

/** Marks errors made by any copy of rustic-ts (two versions of core in one program still recognise each other's errors). */
const RUSTIC_ERROR = Symbol.for('rustic-ts.RusticError')

/**
 * Base class of every error thrown by rustic-ts. Messages name the object concerned and never contain
 * secrets. Recognise one with {@link isRusticError} (it works across copies of the library).
 */
export class RusticError extends Error {
  /** The broad category, as in rustic_core. */
  readonly kind: ErrorKind
  /** A stable code, for the cases code wants to match (e.g. `IncorrectPassword`). */
  readonly code: ErrorCode

  constructor(kind: ErrorKind, message: string, options: RusticErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RusticError'
    this.kind = kind
    this.code = options.code ?? kind
    Object.defineProperty(this, RUSTIC_ERROR, { value: true })
  }
}

/**
 * True if `err` is a {@link RusticError} (optionally with the given code), also when it comes from
 * another copy of rustic-ts.
 */
export function isRusticError(err: unknown, code?: ErrorCode): err is RusticError {
  const is = err instanceof RusticError || (err instanceof Error && (err as unknown as Record<symbol, unknown>)[RUSTIC_ERROR] === true)
  return is && (code === undefined || (err as RusticError).code === code)
}

/** Throws a `RusticError` with code `Aborted` if the signal is aborted. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    throw new RusticError('Internal', 'operation aborted', { code: 'Aborted', cause: signal.reason })
  }
}

/**
 * `value` as an {@link ErrorCode} when it is one (a listed code or a Node errno code, e.g. from a worker
 * thread's message or a failed file system call), else `fallback`.
 */
export function toErrorCode(value: unknown, fallback: ErrorCode): ErrorCode {
  if (typeof value !== 'string') return fallback
  return Object.hasOwn(ERROR_CODES, value) || /^E[A-Z0-9_]+$/.test(value) ? (value as ErrorCode) : fallback
}
