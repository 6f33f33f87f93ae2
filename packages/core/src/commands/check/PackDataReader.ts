import pLimit from 'p-limit'
import { isRusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Progress } from '../../progress/Progress.js'
import type { IndexBlob } from '../../repofile/IndexFile.js'
import { ByteBudget } from '../../util/ByteBudget.js'
import type { FindingCollector } from './CheckFinding.js'
import type { PackStream, PackVerifiers } from './PackVerifiers.js'
import { mergePackParts, type PackPart, type PackVerification, type VerifiedBlob } from './PackVerifier.js'
import { planPackParts } from './planPackParts.js'
import { planPackReads, type PackReadPlan } from './planPackReads.js'

/** A pack to download and verify. */
export interface PackToRead {
  id: Id
  /** Its size in the repository. */
  size: number
  /** The index's entries for it. */
  blobs: IndexBlob[]
  /**
   * Its `size` bytes (as read from the repository, not a copy such as a hot repository) are known to hash to its
   * id (see `CheckOptions.hashedPacks`): it is verified without hashing them again.
   */
  hashed?: boolean
}

/**
 * Reads a range of a pack; into `into` if given (a buffer of at least `length` bytes, see `ReadPartialOptions.into`)
 * where the backend can, returning a view of its first `length` bytes.
 */
export type PackRangeReader = (pack: PackToRead, offset: number, length: number, signal?: AbortSignal, into?: Uint8Array) => Promise<Uint8Array>

/** The path of a pack's local file, which a worker may read itself (see `ReadBackend.localPath`); `undefined` if there is none. */
export type PackPathFinder = (pack: PackToRead, signal?: AbortSignal) => Promise<string | undefined>

/** A pack is read in pieces of at most this size (unless one blob is larger). */
const PIECE_BYTES = 4 << 20
/**
 * The buffers the lane on this thread reads its pieces into are made this large (or a piece's size, if larger): a
 * piece up to this size (a blob larger than a piece is a piece of its own) goes into one, and only the pages read
 * into are memory (see {@link PackDataReader.hereBuffers}).
 */
const HERE_BUFFER_BYTES = 4 << 20
/** Packs in progress per worker lane: the one being verified and the next, being read meanwhile. */
const PACKS_PER_LANE = 2
/**
 * With workers reading local packs, the last packs read (one per lane) are each verified in this many parts (see
 * `planPackParts`), which any lane takes as it gets through its work: the lanes then end within a part of each
 * other rather than a whole pack (the one that ends first would wait idle for the other).
 */
const END_PARTS = 6

/** A pack, or a part of one, for a lane to verify. */
interface ReadItem {
  pack: PackToRead
  /** Its work ({@link packWork}, or the part's share of it). */
  work: number
  /** Its bytes, for progress. */
  bytes: number
  /** The part of the pack, if it is verified in parts. */
  part?: { part: PackPart; plan: PackReadPlan; blobs: IndexBlob[]; index: number; join: PartJoin }
}

/** What the parts of one pack found, until each has found it (see {@link mergePackParts}). */
interface PartJoin {
  results: Array<PackVerification | { error: unknown } | undefined>
  left: number
}

/** The size of the pieces a {@link PackDataReader} with `memory` for `lanes` lanes reads packs in (see `planPackReads`). */
export function pieceBytes(memory: number, lanes: number): number {
  const laneMemory = Math.max(1, Math.floor(memory / Math.max(1, lanes)))
  return Math.max(1, Math.min(PIECE_BYTES, Math.floor(laneMemory / 4)))
}

/**
 * The work of verifying `pack`, in rough units of bytes: every byte is hashed, MAC-checked and decrypted once
 * and every plaintext byte (after decompression) hashed once more, and decompression costs about as much
 * again; so a compressed pack costs much more than its size says.
 */
export function packWork(pack: Pick<PackToRead, 'size' | 'blobs'>): number {
  let plain = 0
  for (const b of pack.blobs) plain += b.uncompressedLength ?? b.length
  return pack.size + 2 * plain
}

/**
 * Records what verifying pack `id` found as findings about it.
 * @param copy - names a copy other than the repository's own (e.g. `hot repository`), for the messages.
 */
export function recordPackProblems(id: Id, verification: PackVerification, findings: FindingCollector, copy?: string): void {
  for (const p of verification.problems) {
    findings.add(p.kind, copy ? `${copy}: ${p.message}` : p.message, { file: { type: 'pack', id }, ...(p.blob ? { blob: p.blob } : {}) })
  }
}

/**
 * `check --read-data`: downloads packs and has them verified by `verifiers` (worker threads, or this
 * thread). Each pack is read once, its tail first and then the rest in pieces of a few MiB cut between blobs
 * (`planPackReads`), several packs at a time; a piece's memory counts until it is verified, and no more than
 * `memory` bytes are in flight, split between the lanes of `verifiers` (the lane on this thread gets half an
 * even share, the workers the rest) so that each always has work queued (one piece per lane is always
 * allowed), so memory stays bounded whatever the sizes of the repository and of its packs. A pack that cannot be downloaded is a finding, not a failure.
 */
export class PackDataReader {
  /** Packs verified. */
  packs = 0
  /** Their bytes. */
  bytes = 0
  /** A memory budget per lane of `verifiers`, so that no worker waits while pieces for another fill the memory. */
  private readonly budgets: ByteBudget[]
  /** Packs in progress per lane. */
  private readonly active: number[]
  /** The work ({@link packWork}) of the packs in progress per lane. */
  private readonly work: number[]
  private readonly pieceBytes: number
  /** The size of {@link PackDataReader.hereBuffers}: pieces up to this size are read into them. */
  private readonly hereBufferBytes: number
  private readonly whole: Array<Promise<void>> = []
  /** Reads waiting for a lane with room for one more pack. */
  private waiting: Array<() => void> = []
  /** False while the lane on this thread takes no packs (see {@link PackDataReader.holdHereLane}). */
  private hereOpen = true
  /** Packs given to {@link PackDataReader.read} that have no lane yet. */
  private unassigned = 0
  /** The packs workers read themselves and have not answered for, in the order given, each with its lane. */
  private fileJobs: Array<{ lane: number; withdraw: AbortController }> = []
  /**
   * Buffers of {@link PackDataReader.hereBufferBytes} the lane on this thread has read pieces into and verified: its
   * next pieces are read into them (no fresh buffer, mapped and faulted in, for every piece). At most as many as
   * its memory holds pieces. Each holds as much memory as the largest piece read into it (a fresh buffer's pages
   * are not memory until written).
   */
  private readonly hereBuffers: Uint8Array[] = []

  constructor(
    private readonly verifiers: PackVerifiers,
    private readonly findings: FindingCollector,
    private readonly options: {
      memory: number
      signal?: AbortSignal
      /** With workers reading local packs, the last packs are each verified in this many parts (default {@link END_PARTS}; 1: whole). */
      endParts?: number
    },
  ) {
    const lanes = Math.max(1, verifiers.lanes ?? 1)
    this.budgets = Array.from({ length: lanes }, (_, i) => new ByteBudget(this.shareOf(i)))
    this.active = new Array<number>(lanes).fill(0)
    this.work = new Array<number>(lanes).fill(0)
    this.pieceBytes = pieceBytes(options.memory, lanes)
    this.hereBufferBytes = Math.max(this.pieceBytes, HERE_BUFFER_BYTES)
    options.signal?.addEventListener('abort', () => this.wake(), { once: true })
  }

  /**
   * Lane `lane`'s share of the memory: the lane on this thread, if any, (which verifies its pieces as they come, between
   * the reads) gets half an even share, the workers (which wait whenever their reads wait on this thread)
   * the rest, so that more of their pieces are read ahead.
   */
  private shareOf(lane: number): number {
    const lanes = this.budgets?.length ?? Math.max(1, this.verifiers.lanes ?? 1)
    const here = this.verifiers.hereLane
    const even = this.options.memory / lanes
    if (here === undefined || lanes < 2) return Math.max(1, Math.floor(even))
    return Math.max(1, Math.floor(lane === here ? even / 2 : (this.options.memory - even / 2) / (lanes - 1)))
  }

  /**
   * Keeps the lane that verifies on this thread from taking packs to read until
   * {@link PackDataReader.releaseHereLane}: while this thread has other work (the tree walk), verifying here
   * would hold up the reads that keep the workers busy.
   */
  holdHereLane(): void {
    const here = this.verifiers.hereLane
    if (here === undefined || !this.hereOpen) return
    this.hereOpen = false
    // meanwhile the other lanes share its memory: more pieces read ahead bridge the pauses of this thread
    const share = Math.max(1, Math.floor(this.options.memory / (this.budgets.length - 1)))
    this.budgets.forEach((b, i) => i !== here && b.resize(share))
  }

  /**
   * Lets the lane on this thread take packs again (see {@link PackDataReader.holdHereLane}); the other lanes
   * go back to their share of the memory as their pieces are verified.
   */
  releaseHereLane(): void {
    if (this.hereOpen) return
    this.hereOpen = true
    this.budgets.forEach((b, i) => b.resize(this.shareOf(i)))
    this.wake()
    this.takeQueuedFile()
  }

  /**
   * At the end, when every pack has a lane and the lane on this thread has nothing to do while a worker has a
   * pack queued behind the one it verifies (it reads its packs itself, see {@link PackDataReader.verifyFile}):
   * withdraws that pack from the worker, if it has not begun it, for this thread to verify (see
   * {@link PackDataReader.readOne}), so that this thread does not wait idle for the worker's last two packs.
   */
  private takeQueuedFile(): void {
    const here = this.verifiers.hereLane
    if (here === undefined || !this.hereOpen || this.active[here] !== 0 || this.unassigned > 0) return
    if (this.fileJobs.some((j) => j.withdraw.signal.aborted)) return
    const perLane = new Map<number, number>()
    for (const j of this.fileJobs) perLane.set(j.lane, (perLane.get(j.lane) ?? 0) + 1)
    for (let i = this.fileJobs.length - 1; i >= 0; i--) {
      const j = this.fileJobs[i]!
      if (perLane.get(j.lane)! >= 2) return j.withdraw.abort()
    }
  }

  /**
   * Verifies a pack that was downloaded whole for another reason (the tree walk), from those bytes, which
   * the caller goes on using; {@link PackDataReader.settle} waits for it.
   * @param copy - names the copy the bytes come from, if not the repository's own.
   * @param verified - blobs already found sound in these bytes (see `VerifiedBlob`): if any, the pack is verified on
   *   this thread's lane (if there is one), which does not open them again (and needs no copy of the bytes).
   */
  verifyDownloaded(pack: PackToRead, bytes: Uint8Array, copy?: string, verified?: ReadonlyMap<number, VerifiedBlob>): void {
    const done = this.verifyWhole(pack, bytes, copy, verified)
    done.catch(() => {})
    this.whole.push(done)
  }

  /**
   * Takes in a pack that worker lane `lane` began verifying before this reader was made (by the pack's own header,
   * see `startHeadPacks`): it counts as that lane's work in progress, and the memory the worker holds for it (the
   * tail and two pieces) against the lane's memory, until `verified` settles. Then what it found is reported as for
   * any pack and this resolves with true; with false if `verified` resolves with `undefined` (nothing is reported:
   * the caller reads the pack as usual).
   */
  async adopt(pack: PackToRead, lane: number, verified: Promise<PackVerification | undefined>, copy?: string): Promise<boolean> {
    const work = packWork(pack)
    this.active[lane]!++
    this.work[lane]! += work
    const job = { lane, withdraw: new AbortController() }
    this.fileJobs.push(job)
    const budget = this.budgets[lane]!
    const held = Math.min(pack.size, 2 * this.pieceBytes + (pack.size - planPackReads(pack.size, pack.blobs, this.pieceBytes).tailStart))
    try {
      await budget.acquire(held)
      try {
        const verification = await untilAborted(verified, this.options.signal)
        if (verification === undefined) return false
        this.record({ pack, work, bytes: pack.size }, copy, verification)
        return true
      } finally {
        budget.release(held)
      }
    } finally {
      this.fileJobs.splice(this.fileJobs.indexOf(job), 1)
      this.leaveLane(lane, work)
    }
  }

  /** Waits for the packs given to {@link PackDataReader.verifyDownloaded}; throws if a worker failed. */
  async settle(): Promise<void> {
    await Promise.all(this.whole)
  }

  /**
   * Downloads and verifies `packs`, up to `concurrency` at a time, the most work first. A pack is given to a
   * lane only once one has room for it (see {@link PackDataReader.takeLane}): whichever lane gets through
   * its work first takes the next, so the lanes end together (the last packs are the smallest) however
   * fast each turns out to be (the lane on this thread shares it with the tree walk). Where the workers read
   * the packs from local files, the last packs are verified in parts (see `planPackParts`), which the lanes
   * take like packs: what a pack's parts found is reported once all are in, as one verifier would have found it.
   * @param copy - names the copy `read` reads, if not the repository's own.
   * @param localPath - where the packs are local files: a pack given to a worker's lane is read by the worker
   *   itself (no bytes pass through this thread; see `PackVerifiers.verifyFile`); `read` reads the others,
   *   and any pack whose file the worker could not read as listed.
   */
  async read(
    packs: readonly PackToRead[],
    read: PackRangeReader,
    options: { concurrency: number; progress: Progress; copy?: string; localPath?: PackPathFinder },
  ): Promise<void> {
    const limit = pLimit(options.concurrency)
    const order = packs.map((p) => ({ pack: p, work: packWork(p), bytes: p.size })).sort((a, b) => b.work - a.work || (a.pack.id < b.pack.id ? -1 : 1))
    const items: ReadItem[] = options.localPath ? this.splitEnd(order) : order
    this.unassigned += items.length
    const one = async (item: ReadItem): Promise<void> => {
      try {
        await this.readOne(item, read, options.copy, options.localPath)
      } finally {
        options.progress.inc(item.bytes)
      }
    }
    try {
      await Promise.all(items.map((item) => limit(() => one(item))))
    } finally {
      limit.clearQueue()
    }
  }

  /**
   * `order` with its last packs that can be split (one per lane, if there are two lanes or more; packs of one
   * piece are not split) each in {@link END_PARTS} parts (or `endParts`); these parts and the packs after them
   * (the smallest) come after the other packs, the most work first.
   */
  private splitEnd(order: ReadItem[]): ReadItem[] {
    const lanes = this.active.length
    if (lanes < 2 || (this.options.endParts ?? END_PARTS) < 2) return order
    const end: ReadItem[] = []
    let split = 0
    let i = order.length
    while (i > 0 && split < lanes) {
      const item = order[--i]!
      const { pack } = item
      const plan = planPackReads(pack.size, pack.blobs, this.pieceBytes)
      const planned = planPackParts(pack.size, pack.blobs, plan, this.options.endParts ?? END_PARTS, pack.hashed === true)
      if (planned.length < 2) {
        end.push(item)
        continue
      }
      split++
      const join: PartJoin = { results: new Array(planned.length).fill(undefined), left: planned.length }
      planned.forEach((p, index) => end.push({ pack, work: Math.round(item.work * p.share), bytes: p.bytes, part: { part: p.part, plan: p.plan, blobs: p.blobs, index, join } }))
    }
    const byWork = (a: ReadItem, b: ReadItem): number => b.work - a.work || (a.pack.id < b.pack.id ? -1 : a.pack.id > b.pack.id ? 1 : (a.part?.index ?? 0) - (b.part?.index ?? 0))
    return [...order.slice(0, i), ...end.sort(byWork)]
  }

  /**
   * The lane with the least work in progress (then the fewest packs), taken for `work` more; with `wait`,
   * only a lane with room for one more pack ({@link PACKS_PER_LANE}), waiting for one if none has. The lane
   * that verifies on this thread (which holds up the reads meanwhile) takes one pack at a time, and only when
   * every other lane has two in progress.
   */
  private async takeLane(work: number, wait: boolean): Promise<number> {
    for (;;) {
      throwIfAborted(this.options.signal)
      const lane = this.pickLane(wait)
      if (lane >= 0) {
        this.active[lane]!++
        this.work[lane]! += work
        return lane
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    }
  }

  /** See {@link PackDataReader.takeLane}; -1 if no lane has room. */
  private pickLane(bounded: boolean): number {
    const here = this.verifiers.hereLane
    let best = -1
    for (let i = 0; i < this.active.length; i++) {
      if (i === here || (bounded && this.active[i]! >= PACKS_PER_LANE)) continue
      const d = best < 0 ? -1 : this.work[i]! - this.work[best]!
      if (d < 0 || (d === 0 && this.active[i]! < this.active[best]!)) best = i
    }
    if (here !== undefined && this.hereOpen && this.active[here] === 0 && this.active.every((n, i) => i === here || n >= PACKS_PER_LANE)) best = here
    if (here !== undefined && best < 0 && !bounded) best = here
    return best
  }

  private leaveLane(lane: number, work: number): void {
    this.active[lane]!--
    this.work[lane]! -= work
    this.wake()
    if (lane === this.verifiers.hereLane) this.takeQueuedFile()
  }

  /** Lets the reads waiting for a lane look again. */
  private wake(): void {
    const waiting = this.waiting
    this.waiting = []
    for (const w of waiting) w()
  }

  private async readOne(item: ReadItem, read: PackRangeReader, copy: string | undefined, localPath: PackPathFinder | undefined): Promise<void> {
    throwIfAborted(this.options.signal)
    // the lane's work goes down as pieces are verified, the rest when the pack is done
    const left = { work: item.work }
    let lane: number
    try {
      lane = await this.takeLane(left.work, true)
    } finally {
      this.unassigned--
    }
    const here = this.verifiers.hereLane
    try {
      if (localPath && lane !== here) {
        const job = { lane, withdraw: new AbortController() }
        this.fileJobs.push(job)
        let done: boolean
        try {
          const verified = this.verifyFile(item, lane, localPath, copy, job.withdraw.signal)
          this.takeQueuedFile()
          done = await verified
        } finally {
          this.fileJobs.splice(this.fileJobs.indexOf(job), 1)
        }
        if (done) return
        if (job.withdraw.signal.aborted && here !== undefined) {
          // withdrawn (or not read): this thread's lane reads and verifies it
          this.active[here]!++
          this.work[here]! += left.work
          const from = lane
          lane = here
          this.leaveLane(from, left.work)
        }
      }
      await this.readOnLane(item, read, copy, lane, left)
    } finally {
      this.leaveLane(lane, left.work)
    }
  }

  /**
   * Has worker lane `lane` read and verify `pack` from its local file; false if it cannot (no such file, or
   * the file could not be read as listed: the caller then reads the pack as usual, which reports why).
   */
  private async verifyFile(item: ReadItem, lane: number, localPath: PackPathFinder, copy: string | undefined, withdraw: AbortSignal): Promise<boolean> {
    const verifyFile = this.verifiers.verifyFile?.bind(this.verifiers)
    if (verifyFile === undefined) return false
    const { pack } = item
    const signal = this.options.signal
    const path = await localPath(pack, signal).catch(() => undefined)
    if (path === undefined) return false
    const plan = item.part?.plan ?? planPackReads(pack.size, pack.blobs, this.pieceBytes)
    // the worker holds the tail and two pieces at a time (the one verified, the next one read): that counts
    // against the lane's memory, as pieces read here would (so packs the walk downloads wait their turn)
    const pieces = plan.pieces.map((p) => p.length).sort((a, b) => b - a)
    const held = Math.min(pack.size, pack.size - plan.tailStart + (pieces[0] ?? 0) + (pieces[1] ?? 0))
    const budget = this.budgets[lane]!
    await budget.acquire(held)
    if (withdraw.aborted) {
      budget.release(held)
      return false
    }
    let verification: PackVerification | undefined
    try {
      const hashed = pack.hashed === true && copy === undefined
      const verified = verifyFile(lane, path, pack.id, pack.size, item.part?.blobs ?? pack.blobs, plan, withdraw, item.part?.part, hashed)
      verified.catch(() => {})
      verification = await untilAborted(verified, signal)
    } finally {
      budget.release(held)
    }
    if (verification === undefined) return false
    this.record(item, copy, verification)
    return true
  }

  /** Reports what verifying `item` found (for a part: once every part of the pack is in, what they found together). */
  private record(item: ReadItem, copy: string | undefined, result: PackVerification | { error: unknown }): void {
    const { pack, part } = item
    if (part !== undefined) {
      const { join } = part
      join.results[part.index] = result
      if (--join.left > 0) return
      const failed = join.results.find((r) => r !== undefined && 'error' in r) as { error: unknown } | undefined
      result = failed ?? mergePackParts(join.results as PackVerification[])
    }
    if ('error' in result) return this.readFailed(pack, copy, result.error)
    recordPackProblems(pack.id, result, this.findings, copy)
    this.packs++
    this.bytes += pack.size
  }

  private async readOnLane(item: ReadItem, read: PackRangeReader, copy: string | undefined, lane: number, left: { work: number }): Promise<void> {
    const { pack } = item
    const budget = this.budgets[lane]!
    const plan = item.part?.plan ?? planPackReads(pack.size, pack.blobs, this.pieceBytes)
    // the tail (the header: small) counts until it is handed over; each piece until it is verified
    const tailLength = pack.size - plan.tailStart
    const tail = await this.readRange(pack, plan.tailStart, tailLength, read, budget)
    if ('error' in tail) return this.record(item, copy, tail)
    // The pieces are read ahead, each as soon as the lane's memory has room for it (in order), so that the
    // verifier has the next ones at hand even when this thread is busy (the tree walk) and answers late.
    const skip = { now: false }
    // (the lane on this thread reads into buffers it reuses: it verifies each piece before it lets it go)
    const reuse = lane === this.verifiers.hereLane
    const reads = plan.pieces.map((piece) => this.readRange(pack, piece.offset, piece.length, read, budget, skip, reuse && piece.length <= this.hereBufferBytes))
    for (const r of reads) r.catch(() => {})
    let next = 0
    // after a failure: the pieces read ahead give their memory back, the others are not read
    const dropReadAhead = async (): Promise<void> => {
      skip.now = true
      for (; next < reads.length; next++) {
        const got = await reads[next]!.catch(() => undefined)
        if (got && 'data' in got) {
          budget.release(plan.pieces[next]!.length)
          if (got.into) this.hereBuffers.push(got.into)
        }
      }
    }
    const pending: Array<Promise<void>> = []
    const work = left.work
    const pushed = Math.max(1, plan.pieces.reduce((n, p) => n + p.length, 0))
    let stream: PackStream | undefined
    try {
      const hashed = pack.hashed === true && copy === undefined
      stream = this.verifiers.begin(pack.id, pack.size, item.part?.blobs ?? pack.blobs, plan.tailStart, tail.data, false, lane, item.part?.part, undefined, hashed)
      budget.release(tailLength)
      for (; next < reads.length; next++) {
        const piece = plan.pieces[next]!
        const got = await reads[next]!
        if ('error' in got) {
          next++
          stream.drop()
          await Promise.allSettled([dropReadAhead(), ...pending])
          return this.record(item, copy, got)
        }
        const share = Math.floor((work * piece.length) / pushed)
        const into = got.into
        const verified = stream.push(got.data, into !== undefined).finally(() => {
          if (into) this.hereBuffers.push(into)
          budget.release(piece.length)
          left.work -= share
          this.work[lane]! -= share
        })
        verified.catch(() => {})
        pending.push(verified)
      }
      await Promise.all(pending)
      this.record(item, copy, await stream.end())
    } catch (e) {
      if (stream) stream.drop()
      else budget.release(tailLength)
      await Promise.allSettled([dropReadAhead(), ...pending])
      throw e
    }
  }

  /**
   * `length` bytes of `pack` from `offset`, with that much memory taken; or why they could not be read (memory
   * given back). Not read if `skip.now` is set by the time the memory is there. With `reuse` (`length` at most
   * {@link PackDataReader.hereBufferBytes}), read into one of {@link PackDataReader.hereBuffers} where the backend
   * can: then `into` is that buffer, which the caller gives back once done with `data`.
   */
  private async readRange(
    pack: PackToRead,
    offset: number,
    length: number,
    read: PackRangeReader,
    budget: ByteBudget,
    skip?: { now: boolean },
    reuse = false,
  ): Promise<{ data: Uint8Array; into?: Uint8Array } | { error: unknown }> {
    const signal = this.options.signal
    await budget.acquire(length)
    if (skip?.now) {
      budget.release(length)
      return { error: new Error('not read') }
    }
    try {
      throwIfAborted(signal)
      const into = reuse ? (this.hereBuffers.pop() ?? Buffer.allocUnsafeSlow(this.hereBufferBytes)) : undefined
      // (after a failed read the buffer is not reused: it is left to the collector)
      const data = await read(pack, offset, length, signal, into)
      if (data.length !== length) throw new Error(`got ${data.length} of ${length} bytes at offset ${offset}`)
      if (into === undefined) return { data }
      // a backend that read into a buffer of its own: that one is used as usual, ours goes back
      if (data.buffer === into.buffer) return { data, into }
      this.hereBuffers.push(into)
      return { data }
    } catch (e) {
      budget.release(length)
      if (isRusticError(e, 'Aborted') || signal?.aborted) throw e
      return { error: e }
    }
  }

  private readFailed(pack: PackToRead, copy: string | undefined, e: unknown): void {
    const where = copy ? `${copy}: ` : ''
    this.findings.add('packReadFailed', `${where}pack ${pack.id} failed to download: ${(e as Error).message}`, { file: { type: 'pack', id: pack.id } })
  }

  private async verifyWhole(pack: PackToRead, bytes: Uint8Array, copy: string | undefined, verified?: ReadonlyMap<number, VerifiedBlob>): Promise<void> {
    const { tailStart } = planPackReads(bytes.length, pack.blobs, Infinity)
    const work = packWork(pack)
    const here = this.verifiers.hereLane
    let lane: number
    if (here !== undefined && mostlyVerified(bytes.length, verified)) {
      // (whether or not this thread's lane is held: what is left is little work, and a worker would open every blob)
      lane = here
      this.active[here]!++
      this.work[here]! += work
    } else lane = await this.takeLane(work, false)
    const budget = this.budgets[lane]!
    await budget.acquire(bytes.length)
    try {
      // (a hash known for the pack is one of its listed size, from the repository itself)
      const hashed = pack.hashed === true && copy === undefined && bytes.length === pack.size
      const stream = this.verifiers.begin(pack.id, bytes.length, pack.blobs, tailStart, bytes.subarray(tailStart), true, lane, undefined, verified, hashed)
      await stream.push(bytes.subarray(0, tailStart), true)
      const verification = await stream.end()
      recordPackProblems(pack.id, verification, this.findings, copy)
      this.packs++
      this.bytes += bytes.length
    } finally {
      budget.release(bytes.length)
      this.leaveLane(lane, work)
    }
  }
}

/** True if `verified` covers at least half of a pack of `size` bytes. */
function mostlyVerified(size: number, verified: ReadonlyMap<number, VerifiedBlob> | undefined): boolean {
  if (verified === undefined) return false
  let n = 0
  for (const b of verified.values()) n += b.length
  return 2 * n >= size
}

/** `p`, or a rejection with `Aborted` as soon as `signal` aborts (`p` goes on, its outcome unheeded). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p
  throwIfAborted(signal)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      try {
        throwIfAborted(signal)
      } catch (e) {
        reject(e as Error)
      }
    }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
