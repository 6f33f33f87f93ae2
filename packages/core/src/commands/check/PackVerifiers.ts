import type { Key } from '../../crypto/Key.js'
import type { Id } from '../../id/Id.js'
import type { IndexBlob } from '../../repofile/IndexFile.js'
import { freeBuffer } from '../../workers/freeBuffer.js'
import { BlobVerifier } from './BlobVerifier.js'
import { PackVerifier, type PackVerification } from './PackVerifier.js'

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
   * busy one). The tail is handed over unless `shared`. With `hashed`, the pack's bytes are known to hash to
   * `packId` (`EarlyPackHashes`) and are not hashed again.
   */
  begin(packId: Id, size: number, blobs: IndexBlob[], tailStart: number, tail: Uint8Array, shared?: boolean, lane?: number, hashed?: boolean): PackStream
  /** Ends the work (workers stop). */
  close(): Promise<void>
}

/** Verifies packs on this thread, one piece at a time as it is pushed (the fallback of `VerifyPool`). */
export function verifiersHere(key: Key): PackVerifiers {
  const opener = new BlobVerifier(key)
  return {
    begin(packId, size, blobs, tailStart, tail, shared, _lane, hashed) {
      let verifier: PackVerifier | undefined
      try {
        verifier = new PackVerifier(key, packId, size, blobs, tailStart, tail, opener, hashed)
      } catch (e) {
        const failed = Promise.reject(e as Error)
        failed.catch(() => {})
        return { push: () => failed, end: () => failed, drop: () => {} }
      }
      const v = verifier
      // what is handed over is freed as soon as it is verified
      const done = (): void => {
        if (!shared) freeBuffer(tail)
      }
      return {
        push: async (piece, sharedPiece) => {
          v.push(piece)
          if (!sharedPiece) freeBuffer(piece)
        },
        end: async () => {
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
 * `workers` and this thread side by side: one more lane (the last) verifies here, between the reads and
 * the tree walk, so that one worker thread fewer is needed to keep the cores busy.
 */
export function verifiersAlsoHere(workers: PackVerifiers, key: Key): PackVerifiers {
  const here = verifiersHere(key)
  const mine = workers.lanes ?? 1
  return {
    lanes: mine + 1,
    hereLane: mine,
    begin: (packId, size, blobs, tailStart, tail, shared, lane, hashed) =>
      lane === mine
        ? here.begin(packId, size, blobs, tailStart, tail, shared, undefined, hashed)
        : workers.begin(packId, size, blobs, tailStart, tail, shared, lane, hashed),
    close: () => workers.close(),
  }
}
