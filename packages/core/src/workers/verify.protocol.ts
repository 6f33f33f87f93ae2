import type { PackPart, PackVerification } from '../commands/check/PackVerifier.js'
import type { MasterKeyJson } from '../crypto/Key.js'
import type { Id } from '../id/Id.js'
import type { IndexBlob } from '../repofile/IndexFile.js'
import type { PackBlob } from '../repofile/PackHeader.js'

/** The `workerData` of a verify worker. */
export interface VerifyWorkerData {
  /** The master key; the worker blanks these fields once it holds the key. */
  key: MasterKeyJson
}

/** Starts verifying pack stream `stream`: its tail (transferred) and the index's entries for it; answered by a {@link VerifyReply}. */
export interface VerifyBegin {
  type: 'begin'
  id: number
  stream: number
  packId: Id
  /** The pack's size in bytes. */
  size: number
  blobs: IndexBlob[]
  /** Where the tail starts. */
  tailStart: number
  /** The bytes from `tailStart` to the end (transferred). */
  tail: Uint8Array
  /** Only this part of the pack is verified (its bytes are the pieces that follow); all of it if absent. */
  part?: PackPart
  /** The pack's bytes are known to hash to its id (see `CheckOptions.hashedPacks`): they are not hashed again. */
  hashed?: boolean
}

/** The next bytes of stream `stream` (transferred); answered by a {@link VerifyReply} once verified. */
export interface VerifyPiece {
  type: 'piece'
  id: number
  stream: number
  data: Uint8Array
}

/** Every byte of stream `stream` was sent; answered by a {@link VerifyReply} with the verification. */
export interface VerifyEnd {
  type: 'end'
  id: number
  stream: number
}

/** Forget stream `stream` (a read of it failed); not answered. */
export interface VerifyDrop {
  type: 'drop'
  stream: number
}

/**
 * Verifies pack `packId` of `size` bytes, read by the worker itself from the local file `path`: its tail
 * (from `tailStart`) first, then `pieces` in order, into buffers the worker reuses. Jobs of this kind run
 * one after the other, in the order sent. Answered by a {@link VerifyReply} with the verification, or with
 * `readError` if the file could not be read as listed (nothing is reported then: the caller reads the pack
 * the usual way).
 */
export interface VerifyFile {
  type: 'file'
  id: number
  /** Names the job for a {@link VerifyWithdraw}. */
  ticket: number
  path: string
  packId: Id
  size: number
  blobs: IndexBlob[]
  tailStart: number
  pieces: Array<{ offset: number; length: number }>
  /** Only this part of the pack is verified (`pieces` are its bytes); all of it if absent. */
  part?: PackPart
  /** As {@link VerifyBegin.hashed}. */
  hashed?: boolean
}

/**
 * Verifies pack `packId` of `size` bytes from the local file `path` by its own header, before the index is
 * there: the worker reads and opens the header, and if it lists data blobs only, reads the pack in pieces of
 * about `pieceBytes` cut between blobs (see `planPackReads`) and verifies it as a {@link VerifyFile} job
 * given the header's entries as the index's would. A file job (run in turn with the others). Answered by a
 * {@link VerifyReply} with the verification and `head` (the entries it was made with); with neither if the
 * header cannot be read or lists a tree blob, or with `readError` if the file could not be read.
 */
export interface VerifyHead {
  type: 'head'
  id: number
  path: string
  packId: Id
  size: number
  pieceBytes: number
}

/**
 * Do not begin {@link VerifyFile} job `ticket` if it has not begun yet (the main thread verifies that pack
 * itself): it is then answered with `withdrawn`. Not answered itself.
 */
export interface VerifyWithdraw {
  type: 'withdraw'
  ticket: number
}

/** Messages to a verify worker. */
export type VerifyWorkerIn = VerifyBegin | VerifyPiece | VerifyEnd | VerifyDrop | VerifyFile | VerifyHead | VerifyWithdraw

/** The answer to job `id`: done, with what was found for a {@link VerifyEnd}, or why it could not be done. */
export interface VerifyReply {
  id: number
  verification?: PackVerification
  /** The header's entries a {@link VerifyHead} job verified the pack with (with `verification`). */
  head?: PackBlob[]
  /** Why the file of a {@link VerifyFile} could not be read. */
  readError?: string
  /** The {@link VerifyFile} job was withdrawn before it began: nothing was done. */
  withdrawn?: boolean
  /** A failure of the worker's own (not a problem of the pack). */
  error?: string
}
