import type { Id } from '../id/Id.js'
import type { FileType } from './FileType.js'

/** Per-call options every backend method accepts. */
export interface CallOptions {
  signal?: AbortSignal
}

/** Options of {@link ReadBackend.readPartial}. */
export interface ReadPartialOptions extends CallOptions {
  /**
   * A buffer of at least `length` bytes the backend may read into, returning a view of its first `length`
   * bytes, instead of allocating one (restore reuses its pack buffers this way: a new buffer for every read
   * costs a page fault per 4 KiB). A backend may ignore it and return its own buffer; the caller checks.
   */
  into?: Uint8Array
}

/**
 * Read access to a repository's storage (rustic_core's `ReadBackend`).
 * Implementations must be safe for many concurrent calls and throw {@link BackendError}s.
 * For `config` the id is ignored (pass any id, conventionally all zeros via `CONFIG_ID`).
 */
export interface ReadBackend {
  /** A printable location, never containing secrets. */
  location(): string
  /** Ids of all files of a type (for `config`: one zero id if it exists). */
  list(type: FileType, options?: CallOptions): Promise<Id[]>
  /** Ids and sizes in bytes of all files of a type. */
  listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>>
  /** A whole file. Throws `NotFound` if missing. */
  readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array>
  /**
   * `length` bytes from `offset`. Throws if the file is shorter. The caller owns the bytes returned (restore
   * and check hand them to worker threads or free them at once): a backend that keeps them must return a copy.
   */
  readPartial(
    type: FileType,
    id: Id,
    cacheable: boolean,
    offset: number,
    length: number,
    options?: ReadPartialOptions,
  ): Promise<Uint8Array>
  /**
   * Optional: the path on this machine of a file that is stored as a plain local file holding exactly the
   * bytes `readPartial` returns, so that a caller may read it directly (`check --read-data` has its worker
   * threads read pack files this way). `undefined` (or no such method) where that is not so; callers then
   * use `readPartial`. Whatever is read from the path must be handled as `readPartial`'s bytes would be.
   */
  localPath?(type: FileType, id: Id, options?: CallOptions): Promise<string | undefined>
  /** True if files must be warmed up (e.g. restored from cold storage) before reading. */
  needsWarmUp?(): boolean
  /** Asks the storage to make a file readable soon. */
  warmUp?(type: FileType, id: Id, options?: CallOptions): Promise<void>
  /** Releases resources (connections, child processes). */
  close?(): Promise<void>
}

/** Read and write access to a repository's storage (rustic_core's `WriteBackend`). */
export interface WriteBackend extends ReadBackend {
  /** Creates the repository structure (directories). Idempotent. */
  create(options?: CallOptions): Promise<void>
  /**
   * Stores a file. Writes are atomic: readers see the whole file or nothing. Overwriting is allowed.
   * The caller may reuse `data` once the returned promise resolves: a backend that keeps the bytes must copy them.
   */
  writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void>
  /** Removes a file. Removing a missing file throws `NotFound`. */
  remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void>
  /**
   * Optional: starts a file whose id is known only once it is complete (a pack is named by the hash of
   * its bytes), written piece by piece so that it need not be held in memory. Resolves to undefined when
   * this backend cannot do it for this file (the caller then uses `writeBytes`).
   */
  openFileWriter?(type: FileType, cacheable: boolean, options?: CallOptions): Promise<FileWriter | undefined>
  /**
   * Optional: removes the temporary files of writes that never finished (a process killed while writing)
   * that are older than `olderThanMs`, and returns how many it removed. Backup calls it with one day.
   */
  removeStaleTempFiles?(olderThanMs: number, options?: CallOptions): Promise<number>
}

/** A file being written piece by piece (see {@link WriteBackend.openFileWriter}). */
export interface FileWriter {
  /** Appends bytes (calls must not overlap); `data` may be reused once the promise resolves. */
  write(data: Uint8Array): Promise<void>
  /** Stores the file under `id`, atomically as `writeBytes` does. Nothing may be written afterwards. */
  commit(id: Id): Promise<void>
  /** Drops the unfinished file. */
  abort(): Promise<void>
}

/** The id used for the `config` file in backend calls. */
export const CONFIG_ID = '0000000000000000000000000000000000000000000000000000000000000000' as Id
