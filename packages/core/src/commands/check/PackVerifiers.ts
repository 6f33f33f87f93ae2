import type { Key } from '../../crypto/Key.js'
import type { Id } from '../../id/Id.js'
import type { IndexBlob } from '../../repofile/IndexFile.js'
import { freeBuffer } from '../../workers/freeBuffer.js'
import { BlobVerifier } from './BlobVerifier.js'
import { PackVerifier, type PackPart, type PackVerification, type VerifiedBlob } from './PackVerifier.js'
import type { PackReadPlan } from './planPackReads.js'

/** One pack being verified (see `PackVerifier`): its pieces go in, in order, then {@link PackStream.end}. */
export interface PackStream {
  /**
   * Verifies the next bytes; resolves once they are verified (their memory can be counted as free). With
   * `shared`, the caller keeps using `piece` (a worker gets a copy); else it is handed over.
   */
  push(piece: Uint8Array, shared?: boolean): Promise<void>
  /** What was found, once every piece up to the tail is in. */
  end(): Promise<PackVerification>
  /** Gives the pack up (a read of it failed): nothing is reported. */
  drop(): void
}

/** Where packs are verified: on worker threads (`VerifyPool`) or on this thread ({@link verifiersHere}). */
export interface PackVerifiers {
  /**
   * How many packs can be verified side by side (worker threads); 1 if absent. A caller that keeps each
   * lane supplied (see `PackDataReader`) keeps every worker busy.
   */
  readonly lanes?: number
  /**
   * The lane (if any) that verifies on the calling thread: while it verifies, no reads are issued or handed
   * over, so it should take a pack only when the other lanes have work queued.
   */
  readonly hereLane?: number
  /**
   * Starts verifying pack `packId` of `size` bytes, indexed as `blobs`, from its tail (the bytes from
   * `tailStart`, see `planPackReads`), on lane `lane` (below {@link PackVerifiers.lanes}; else the least
   * busy one). The tail is handed over unless `shared`. With `part`, only that part of the pack is verified
   * (see `PackPart`): the pieces pushed are its bytes. `verified`: blobs already found sound in these very
   * bytes (see `VerifiedBlob`), which need not be opened again (a worker's lane may open them anyway). `hashed`: the
   * pack's `size` bytes are known to hash to `packId` (see `CheckOptions.hashedPacks`), and are not hashed again.
   */
  begin(
    packId: Id,
    size: number,
    blobs: IndexBlob[],
    tailStart: number,
    tail: Uint8Array,
    shared?: boolean,
    lane?: number,
    part?: PackPart,
    verified?: ReadonlyMap<number, VerifiedBlob>,
    hashed?: boolean,
  ): PackStream
  /**
   * Optional: verifies pack `packId` on lane `lane` (a worker's, not {@link PackVerifiers.hereLane}), which
   * reads it itself from the local file `path` as `plan` says (see `planPackReads`), into buffers it reuses;
   * resolves with what was found, or `undefined` if the file could not be read as planned (nothing is
   * reported: the caller reads the pack the usual way, which reports what is wrong). When `withdraw` aborts
   * before the worker begins the pack, it does not begin it and this resolves with `undefined` too. With
   * `part`, only that part of the pack is verified (see `PackPart`), reading the tail and `plan`'s pieces.
   * `hashed` as for {@link PackVerifiers.begin}.
   */
  verifyFile?(
    lane: number,
    path: string,
    packId: Id,
    size: number,
    blobs: IndexBlob[],
    plan: PackReadPlan,
    withdraw?: AbortSignal,
    part?: PackPart,
    hashed?: boolean,
  ): Promise<PackVerification | undefined>
  /** Ends the work (workers stop). */
  close(): Promise<void>
}

/** Bytes this thread verifies at most (unless one blob is larger) before it lets other work in. */
const HERE_PART = 256 << 10

/** Verifies packs on this thread, each piece in turn as it is pushed, in parts with other work between them (the fallback of `VerifyPool`). */
export function verifiersHere(key: Key): PackVerifiers {
  const opener = new BlobVerifier(key)
  return {
    begin(packId, size, blobs, tailStart, tail, shared, _lane, part, verified, hashed) {
      let verifier: PackVerifier | undefined
      try {
        verifier = new PackVerifier(key, packId, size, blobs, tailStart, tail, opener, part, verified, hashed)
      } catch (e) {
        const failed = Promise.reject(e as Error)
        failed.catch(() => {})
        return { push: () => failed, end: () => failed, drop: () => {} }
      }
      const v = verifier
      let queue = Promise.resolve()
      const state = { dropped: false }
      // what is handed over is freed as soon as it is verified
      const done = (): void => {
        state.dropped = true
        if (!shared) freeBuffer(tail)
      }
      return {
        // (each piece waits for the one before: a piece is verified in parts, with other work in between)
        push: (piece, sharedPiece) => {
          const run = queue.then(() => pushInParts(v, piece, sharedPiece, state))
          queue = run.catch(() => {})
          return run
        },
        end: async () => {
          await queue
          try {
            return v.finish()
          } finally {
            done()
          }
        },
        drop: done,
      }
    },
    close: async () => {},
  }
}

/**
 * Verifies `piece` in parts of about {@link HERE_PART} bytes cut where blobs end, letting I/O callbacks run in
 * between: this thread also reads the packs the workers verify, and a worker waits while their reads wait
 * here. Frees the piece afterwards unless `shared`.
 */
async function pushInParts(v: PackVerifier, piece: Uint8Array, shared: boolean | undefined, state: { dropped: boolean }): Promise<void> {
  // (a pack given up is not verified further)
  for (let at = 0; at < piece.length && !state.dropped; ) {
    const n = v.partLength(piece.length - at, HERE_PART)
    v.push(at === 0 && n === piece.length ? piece : piece.subarray(at, at + n))
    at += n
    if (at < piece.length) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  if (!shared) freeBuffer(piece)
}

/**
 * `workers` and this thread side by side: one more lane (the last) verifies here, between the reads and
 * the tree walk, so that one worker thread fewer is needed to keep the cores busy.
 */
export function verifiersAlsoHere(workers: PackVerifiers, key: Key): PackVerifiers {
  const here = verifiersHere(key)
  const mine = workers.lanes ?? 1
  // (the lane here reads through the caller, as it verifies between the caller's other work)
  const viaWorkers = workers.verifyFile?.bind(workers)
  const verifyFile: PackVerifiers['verifyFile'] = viaWorkers
    ? (lane, path, packId, size, blobs, plan, withdraw, part, hashed) =>
        lane === mine ? Promise.resolve(undefined) : viaWorkers(lane, path, packId, size, blobs, plan, withdraw, part, hashed)
    : undefined
  return {
    lanes: mine + 1,
    hereLane: mine,
    begin: (packId, size, blobs, tailStart, tail, shared, lane, part, verified, hashed) =>
      lane === mine
        ? here.begin(packId, size, blobs, tailStart, tail, shared, undefined, part, verified, hashed)
        : workers.begin(packId, size, blobs, tailStart, tail, shared, lane, part, undefined, hashed),
    ...(verifyFile ? { verifyFile } : {}),
    close: () => workers.close(),
  }
}
