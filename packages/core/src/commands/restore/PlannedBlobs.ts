import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import { IdTable } from '../../id/IdTable.js'
import { grow, trimmed } from '../../util/growArray.js'
import { PackReads } from './PackReads.js'

/** Options of {@link PlannedBlobs.build}. */
export interface PackReadOptions {
  /** Blobs closer than this many bytes share one read. */
  maxReadGap: number
  /** A read covering several blobs is not made longer than this (a single larger blob still gets its own read). */
  maxReadSize: number
}

/**
 * Most blobs in one read: a worker gets a read's blobs and their places in one message, and many tiny files
 * made messages of tens of thousands of objects (a heap of their own in each worker, for each read in flight).
 */
export const MAX_READ_BLOBS = 1024

/** Where a blob of {@link PlannedBlobs.add} is stored. */
export interface PlannedBlobLocation {
  packId: Id
  offset: number
  length: number
  uncompressedLength?: number
}

/**
 * The blobs a restore plan needs while it is being made: each blob once (found by its id through an
 * open-addressing table keyed by the id's bits), its location and every place it goes (a list of targets
 * per blob, in the order they were added), all in typed arrays. {@link PlannedBlobs.build} groups them
 * into {@link PackReads}.
 */
export class PlannedBlobs {
  /** The blobs' ids; their entry numbers are the blob numbers. */
  readonly #ids = new IdTable()
  #pack = new Uint32Array(0)
  #offset = new Float64Array(0)
  #length = new Uint32Array(0)
  /** Uncompressed length + 1, 0 for uncompressed blobs. */
  #uncompressed = new Uint32Array(0)
  #dataLength = new Uint32Array(0)
  #firstTarget = new Int32Array(0)
  #lastTarget = new Int32Array(0)
  #targets = 0
  #targetFile = new Uint32Array(0)
  #targetOffset = new Float64Array(0)
  #targetNext = new Int32Array(0)
  readonly #packIds: Id[] = []
  readonly #packNumbers = new Map<Id, number>()

  /** Number of distinct blobs. */
  get size(): number {
    return this.#ids.size
  }

  /** Number of distinct packs the blobs are in. */
  get packs(): number {
    return this.#packIds.length
  }

  /** The blob number of `id`, or -1 if it is not planned yet. */
  indexOf(id: Id): number {
    return this.#ids.indexOf(id)
  }

  /** Plaintext length of blob `b`. */
  dataLength(b: number): number {
    return this.#dataLength[b]!
  }

  /** Adds blob `id` (not planned yet: see {@link PlannedBlobs.indexOf}) at `loc` with `dataLength` bytes of plaintext; returns its number. */
  add(id: Id, loc: PlannedBlobLocation, dataLength: number): number {
    const b = this.#ids.add(id, 'plan blob')
    if (b < 0) throw new RusticError('Internal', `blob ${id} is planned twice`, { code: 'Internal' })
    if (b === this.#pack.length) this.#grow(this.#ids.capacity)
    let pack = this.#packNumbers.get(loc.packId)
    if (pack === undefined) {
      pack = this.#packIds.length
      this.#packIds.push(loc.packId)
      this.#packNumbers.set(loc.packId, pack)
    }
    this.#pack[b] = pack
    this.#offset[b] = loc.offset
    this.#length[b] = loc.length
    this.#uncompressed[b] = loc.uncompressedLength === undefined ? 0 : loc.uncompressedLength + 1
    this.#dataLength[b] = dataLength
    this.#firstTarget[b] = -1
    this.#lastTarget[b] = -1
    return b
  }

  /** Adds a place blob `b` goes: file `file` (index into the plan's files) at `offset`. */
  addTarget(b: number, file: number, offset: number): void {
    const t = this.#targets++
    if (t === this.#targetFile.length) {
      const cap = Math.max(1024, t * 2)
      this.#targetFile = grow(this.#targetFile, cap)
      this.#targetOffset = grow(this.#targetOffset, cap)
      this.#targetNext = grow(this.#targetNext, cap)
    }
    this.#targetFile[t] = file
    this.#targetOffset[t] = offset
    this.#targetNext[t] = -1
    const last = this.#lastTarget[b]!
    if (last < 0) this.#firstTarget[b] = t
    else this.#targetNext[last] = t
    this.#lastTarget[b] = t
  }

  #grow(cap: number): void {
    this.#pack = grow(this.#pack, cap)
    this.#offset = grow(this.#offset, cap)
    this.#length = grow(this.#length, cap)
    this.#uncompressed = grow(this.#uncompressed, cap)
    this.#dataLength = grow(this.#dataLength, cap)
    this.#firstTarget = grow(this.#firstTarget, cap)
    this.#lastTarget = grow(this.#lastTarget, cap)
  }

  /**
   * Groups the blobs into ranged pack reads: each pack is read at most once (per range), in the order packs
   * are first needed; within a pack blobs are sorted by offset and neighbours closer than `maxReadGap` are
   * merged into one read of at most `maxReadSize` bytes and {@link MAX_READ_BLOBS} blobs.
   */
  build(options: PackReadOptions): PackReads {
    const n = this.#ids.size
    const pack = this.#pack
    const offset = this.#offset
    const length = this.#length
    const order = new Uint32Array(n)
    for (let b = 0; b < n; b++) order[b] = b
    order.sort((a, b) => pack[a]! - pack[b]! || offset[a]! - offset[b]! || a - b)

    const packIds: Id[] = []
    const offsets: number[] = []
    const lengths: number[] = []
    const blobStart: number[] = []
    const ids = new Uint8Array(n * 32)
    const blobOffsets = new Float64Array(n)
    const blobLengths = new Uint32Array(n)
    const uncompressed = new Uint32Array(n)
    const dataLengths = new Uint32Array(n)
    const targetStart = new Uint32Array(n + 1)
    const targetFiles = new Uint32Array(this.#targets)
    const targetOffsets = new Float64Array(this.#targets)
    let t = 0
    let r = -1
    let curPack = -1
    for (let i = 0; i < n; i++) {
      const b = order[i]!
      const start = offset[b]!
      const end = start + length[b]!
      const curEnd = r < 0 ? 0 : offsets[r]! + lengths[r]!
      if (
        r >= 0 &&
        pack[b] === curPack &&
        start - curEnd <= options.maxReadGap &&
        end - offsets[r]! <= options.maxReadSize &&
        i - blobStart[r]! < MAX_READ_BLOBS &&
        start >= curEnd
      ) {
        lengths[r] = end - offsets[r]!
      } else {
        r++
        curPack = pack[b]!
        packIds.push(this.#packIds[curPack]!)
        offsets.push(start)
        lengths.push(end - start)
        blobStart.push(i)
      }
      this.#ids.copyBytes(b, ids, i * 32)
      blobOffsets[i] = start
      blobLengths[i] = length[b]!
      uncompressed[i] = this.#uncompressed[b]!
      dataLengths[i] = this.#dataLength[b]!
      targetStart[i] = t
      for (let x = this.#firstTarget[b]!; x >= 0; x = this.#targetNext[x]!) {
        targetFiles[t] = this.#targetFile[x]!
        targetOffsets[t] = this.#targetOffset[x]!
        t++
      }
    }
    targetStart[n] = t
    blobStart.push(n)
    return new PackReads({
      packIds,
      offsets: Float64Array.from(offsets),
      lengths: Float64Array.from(lengths),
      blobStart: Uint32Array.from(blobStart),
      ids,
      blobOffsets,
      blobLengths,
      uncompressed,
      dataLengths,
      targetStart,
      targetFiles: trimmed(targetFiles, t),
      targetOffsets: trimmed(targetOffsets, t),
    })
  }
}
