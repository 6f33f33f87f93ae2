import type { ResolvedChunkerOptions } from '../chunker/ChunkerOptions.js'
import type { Polynomial } from '../chunker/Polynomial.js'
import type { MasterKeyJson } from '../crypto/Key.js'
import type { Id } from '../id/Id.js'

/** The `workerData` of a seal worker. */
export interface SealWorkerData {
  /** The master key; the worker blanks these fields once it holds the key. */
  key: MasterKeyJson
  /** zstd level, or null for no compression (as `DecryptBackend.sealBlob` of the repository). */
  level: number | null
  /** The zstd provider the pool's thread uses (`zstdBuffers(zstd)`), so both compress alike. */
  zstd: string
  /** For storing whole files: the chunker's polynomial and options; null: the worker seals blobs only. */
  chunker: { pol: Polynomial; options: ResolvedChunkerOptions } | null
  /** Where sealed batches of files' chunks go: slots of `outSizes` bytes one after the other, shared with the pool. */
  outMem: SharedArrayBuffer
  outSizes: number[]
}

/** Seal blobs held one after the other in `data` (lengths in `lengths`); answered by a {@link SealedReply}. */
export interface SealRequest {
  type: 'seal'
  id: number
  /** The blobs (transferred). */
  data: Uint8Array
  lengths: number[]
}

/**
 * Store files: read each (never through a symlink), cut it with the chunker, hash the chunks and ask which
 * are new ({@link ChunkQuery}); the claimed ones come back sealed ({@link StoredChunks}). Paths are concatenated
 * in `paths`, file `i` ending at `ends[i]`; `expected` are the sizes the files were listed with.
 */
export interface StoreFilesRequest {
  type: 'files'
  ids: number[]
  expected: number[]
  paths: Uint8Array
  ends: number[]
  /** Per file (by position; absent or null: none), its chunks in the parent snapshot (see {@link ParentChunks}). */
  parents?: Array<ParentChunks | null>
}

/**
 * A changed file's first chunks in the parent snapshot, in order, every one held by the pool's index (which
 * only grows during a backup, so the pool never claims them as new): the worker asks about a chunk with one
 * of these ids without keeping its bytes until the answer. And while the file's bytes from its start hash to
 * the first `leading` of them one by one, it takes those as its chunks without looking for cuts: the cuts of
 * the same chunker over the same bytes from the same start (the parent's last chunk ended at its end of
 * file, not at a cut, so it is never among them).
 */
export interface ParentChunks {
  ids: Id[]
  /** The chunks' plaintext lengths. */
  lengths: number[]
  leading: number
}

/** The pool's answer to {@link ChunkQuery} `query`: one character per chunk, `1` = new, seal it and send it. */
export interface ClaimAnswer {
  type: 'answer'
  query: number
  claims: string
}

/** Slot `slot` of `outMem` is free again (the blobs of a {@link StoredChunks} are written). */
export interface SlotRecycle {
  type: 'recycle'
  slot: number
}

/** Messages to a seal worker. */
export type SealWorkerIn = SealRequest | StoreFilesRequest | ClaimAnswer | SlotRecycle

/** The blobs of a {@link SealRequest}, sealed one after the other in `sealed` (transferred). */
export interface SealedReply {
  type: 'sealed'
  id: number
  sealed: Uint8Array
  /** Sealed length of each blob. */
  lengths: number[]
  /** Uncompressed length of each blob, -1 where it is not compressed. */
  uls: number[]
}

/** A {@link SealRequest} failed. */
export interface SealFailed {
  type: 'sealFailed'
  id: number
  message: string
}

/** How a file of a {@link StoreFilesRequest} ended: its content (chunk ids) and size as read, or why it could not be read. */
export type FileReport = { id: number; content: Id[]; size: number } | { id: number; error: string; code: string | undefined }

/**
 * Which of these chunks are new? (`query` -1: none to ask about, only finished files to report.) Sent once
 * per turn of the worker's event loop, with the files finished since the last one; a file's content ids go
 * out with its last chunks' query.
 */
export interface ChunkQuery {
  type: 'query'
  query: number
  ids: Id[]
  lengths: number[]
  files: FileReport[]
}

/**
 * Claimed chunks of one {@link ClaimAnswer} (all, or one batch of them), sealed one after the other in slot
 * `slot` of `outMem`, `length` bytes in all.
 */
export interface StoredChunks {
  type: 'stored'
  slot: number
  length: number
  ids: Id[]
  /** Sealed length of each blob. */
  lengths: number[]
  /** Uncompressed length of each blob, -1 where it is not compressed. */
  uls: number[]
  /** Plaintext length of each blob. */
  sizes: number[]
  /** More batches follow for the same answer. */
  more: boolean
}

/** Messages from a seal worker. */
export type SealWorkerOut = SealedReply | SealFailed | ChunkQuery | StoredChunks
