import type { MasterKeyJson } from '../crypto/Key.js'
import type { ErrorCode, ErrorKind } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'

/** The `workerData` of a restore worker. */
export interface RestoreWorkerData {
  /** The master key; the worker blanks these fields once it holds the key. */
  key: MasterKeyJson
  /** The zstd provider the pool's thread uses (`zstdBuffers(zstd)`). */
  zstd: string
}

/** Metadata a restore worker sets on a file through its descriptor, after its last write. */
export interface FileMetadata {
  /** Permission bits (with setuid/setgid/sticky) for `fchmod`. */
  mode: number
  /**
   * `mode` can be given to `open` when it creates the file (no setuid/setgid/sticky bit, owner-writable,
   * nothing of it in the process's umask): a file created so needs no `fchmod` (see `openNewFile`).
   */
  createMode?: boolean
  /**
   * A file created now gets `uid`/`gid` by itself (they are the process's, and no directory it is created in
   * is setgid): a file created so needs no `fchown` (see `openNewFile`).
   */
  createOwner?: boolean
  /** Access time in nanoseconds since 1970 (may be negative), set with `setFdTimes`. */
  atimeNs: bigint
  /** Modification time in nanoseconds since 1970, likewise. */
  mtimeNs: bigint
  /** Owner for `fchown` (only set when ownership is restored). */
  uid?: number
  /** Group for `fchown`. */
  gid?: number
}

/** Where a blob goes: a path, an offset, and how to open the file. */
export interface RestoreTarget {
  /** Index of the file in the plan (reported back when written). */
  file: number
  /** The file: text, or the raw bytes of a path that is not valid UTF-8. */
  path: string | Uint8Array
  /** Offset in the file. */
  offset: number
  /** True: create/truncate the file with this write (a new file of one blob); false: it exists already. */
  create: boolean
  /** Do not write (an all-zero blob of a preallocated sparse file). */
  skipZero: boolean
  /** Metadata to set after this write (the file's last): owner, mode, times. */
  meta?: FileMetadata
}

/** One blob of a pack range. */
export interface RestoreBlob {
  /** Blob id (checked when `verify`). */
  id: Id
  /** Offset of the sealed blob in the range. */
  start: number
  /** Sealed length. */
  length: number
  /** Uncompressed length of compressed blobs. */
  uncompressedLength?: number
  /** Plaintext length. */
  dataLength: number
  /** Where it is written. */
  targets: RestoreTarget[]
}

/** A job: open the blobs of one pack range and write them to their places. */
export interface RestoreRequest {
  id: number
  /** The sealed range (transferred); empty when the job reads it itself from `file`. */
  data: Uint8Array
  /**
   * Where the range is in a local pack file (see `ReadBackend.localPath`): the thread doing the job reads
   * it itself, `window` bytes at most at a time (or one whole blob), into a buffer of its own, instead of
   * being handed `data`. What cannot be read is left to the caller (`RestoreReply.unreadFrom`).
   */
  file?: { path: string; offset: number; length: number; window: number }
  /** `data` is shared memory (a `SharedArrayBuffer`) the pool reuses after the reply: not to be freed. */
  shared?: boolean
  blobs: RestoreBlob[]
  /** Check that each blob hashes to its id. */
  verify: boolean
  /** Names the range in errors, e.g. `pack 1a2b...`. */
  what: string
}

/** An error as it crosses the thread boundary, to be raised again as a `RusticError`. */
export interface RestoreError {
  kind: ErrorKind
  code: ErrorCode
  message: string
}

/**
 * What a worker did with one pack range: every blob but the damaged ones (whose data fails its checks:
 * skipped, listed in `damaged`) up to the first problem that stops the job (a write failing), and that problem.
 */
export interface RestoreReply {
  id: number
  /** Plaintext bytes written. */
  written: number
  /** The file index of every write done, in order. */
  files: number[]
  /** Files whose metadata was set. */
  metaDone: number[]
  /** Blobs (indexes into the request's `blobs`) whose data is damaged, with the error; none of their targets was written. */
  damaged: Array<{ blob: number; error: RestoreError }>
  /** The problem that stopped the job, as the `RusticError` to raise. */
  failure?: RestoreError
  /** Bytes of the pack file read for a job with `file`. */
  read?: number
  /**
   * For a job with `file`: the first blob whose bytes could not be read from the file (missing, cut short,
   * unreadable); it and the blobs after it were not done, and the caller reads them through the backend.
   */
  unreadFrom?: number
}
