import type { ReadBackend } from '../../backend/Backend.js'
import type { Id } from '../../id/Id.js'
import { ByteBudget } from '../../util/ByteBudget.js'

/**
 * Hashes the next bytes of hash stream `stream` on lane `lane` (a verify worker), taking `piece` over; resolves
 * once they are hashed, with the stream's SHA-256 (hex) if `last`.
 */
export type PieceHasher = (lane: number, stream: number, piece: Uint8Array, last: boolean) => Promise<string | undefined>

/**
 * Hashes the first `size` bytes of the local file `path` on lane `lane` (a verify worker, which reads the file
 * itself); resolves with their SHA-256 (hex), or `undefined` if the file could not be read.
 */
export type FileHasher = (lane: number, path: string, size: number) => Promise<string | undefined>

/** A pack file is read in pieces of at most this size. */
const PIECE_BYTES = 4 << 20

/**
 * The SHA-256 of pack files, computed before `check --read-data` can read anything else: a pack's id is the
 * hash of its bytes, which needs no key, so the packs can be read and hashed on the verify workers while the
 * key is derived (scrypt keeps one core busy, the workers wait for the key). The packs are listed and read in
 * pieces, one pack per worker at a time, no more than `memory` bytes in flight; each piece is handed over and
 * freed once hashed. What comes of it is only a shortcut: a pack whose bytes hashed to its id, with the size
 * read ({@link EarlyPackHashes.verified}), is later verified without hashing its bytes again (every blob
 * and its header are still checked against the index from a second read); a pack that did not hash to
 * its id, or was not read to its end, is hashed again as if nothing had been done, so the findings are
 * the same. Read errors are ignored (the later read reports them).
 *
 * Meant for a local repository, where the second read comes from the system's page cache; elsewhere it
 * would download those packs twice.
 */
export class EarlyPackHashes {
  /** The packs whose bytes hashed to their id, with the size that was read. */
  readonly verified = new Map<Id, number>()
  private readonly stopper = new AbortController()
  private readonly running: Promise<void>
  private readonly inFlight = new Set<Promise<unknown>>()

  /**
   * Starts listing and hashing the packs of `backend`.
   * @param lanes - the workers `hash` spreads the packs over.
   * @param memory - the most bytes read and not hashed yet.
   * @param hashFile - where `backend` has `localPath` (plain local files): the workers read each pack
   *   themselves (no bytes pass through this thread, and the memory is theirs: two reused buffers each).
   */
  constructor(
    private readonly backend: Pick<ReadBackend, 'listWithSize' | 'readPartial' | 'localPath'>,
    private readonly lanes: number,
    private readonly hash: PieceHasher,
    private readonly memory: number,
    private readonly hashFile?: FileHasher,
  ) {
    this.running = this.run().catch(() => {})
  }

  /** Stops reading; resolves once every piece read is hashed (its memory is free), with {@link EarlyPackHashes.verified}. */
  async stop(): Promise<ReadonlyMap<Id, number>> {
    this.stopper.abort()
    await this.running
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
    return this.verified
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal
    const packs = (await this.backend.listWithSize('pack', { signal })).filter(([, size]) => size > 0)
    const budget = new ByteBudget(this.memory)
    const pieceBytes = Math.max(1, Math.min(PIECE_BYTES, Math.floor(this.memory / (2 * this.lanes))))
    let next = 0
    let streams = 0
    const localPath = this.hashFile && this.backend.localPath?.bind(this.backend)
    const lane = async (n: number): Promise<void> => {
      while (next < packs.length && !signal.aborted) {
        const [id, size] = packs[next++]!
        const path = localPath && (await localPath('pack', id, { signal }).catch(() => undefined))
        if (path !== undefined && !signal.aborted) {
          const hashed = this.hashFile!(n, path, size).then((digest) => {
            if (digest === id) this.verified.set(id, size)
          })
          this.track(hashed)
          await hashed.catch(() => {})
          continue
        }
        const stream = streams++
        for (let offset = 0; offset < size; ) {
          const length = Math.min(pieceBytes, size - offset)
          await budget.acquire(length)
          let data: Uint8Array
          try {
            if (signal.aborted) throw new Error('stopped')
            data = await this.backend.readPartial('pack', id, false, offset, length, { signal })
            if (data.length !== length) throw new Error('short read')
          } catch {
            budget.release(length)
            // ends the stream on the worker (its digest is of no use)
            this.track(this.hash(n, stream, new Uint8Array(0), true))
            break
          }
          offset += length
          const last = offset === size
          this.track(
            this.hash(n, stream, data, last).then((digest) => {
              if (digest === id) this.verified.set(id, size)
            }),
            () => budget.release(length),
          )
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, this.lanes) }, (_, n) => lane(n)))
  }

  /** Keeps `hashed` in flight until it settles (a failure only means no shortcut), then calls `done`. */
  private track(hashed: Promise<unknown>, done?: () => void): void {
    const p = hashed.then(
      () => done?.(),
      () => done?.(),
    )
    this.inFlight.add(p)
    void p.then(() => this.inFlight.delete(p))
  }
}
