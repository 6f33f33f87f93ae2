import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import { grow, trimmed } from './growArray.js'
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
  #n = 0
  /** Ids, 8 words each, and the same memory as bytes. */
  #ids = new Uint32Array(0)
  #idBytes = Buffer.alloc(0)
  #pack = new Uint32Array(0)
  #offset = new Float64Array(0)
  #length = new Uint32Array(0)
  /** Uncompressed length + 1, 0 for uncompressed blobs. */
  #uncompressed = new Uint32Array(0)
  #dataLength = new Uint32Array(0)
  #firstTarget = new Int32Array(0)
  #lastTarget = new Int32Array(0)
  /** Blob number + 1 per slot, 0 for an empty slot; at most half full. */
  #slots = new Uint32Array(0)
  #targets = 0
  #targetFile = new Uint32Array(0)
  #targetOffset = new Float64Array(0)
  #targetNext = new Int32Array(0)
  readonly #packIds: Id[] = []
  readonly #packNumbers = new Map<Id, number>()
  readonly #probeBytes = Buffer.alloc(32)
  readonly #probe = new Uint32Array(this.#probeBytes.buffer, this.#probeBytes.byteOffset, 8)

  /** Number of distinct blobs. */
  get size(): number {
    return this.#n
  }

  /** Number of distinct packs the blobs are in. */
  get packs(): number {
    return this.#packIds.length
  }

  #slotOf(w: Uint32Array, at: number): number {
    // (ids are SHA-256 hashes; mixing two of their words spreads them well)
    const h = Math.imul(w[at]! ^ Math.imul(w[at + 5]!, 0x9e3779b1), 0x85ebca6b)
    return (h ^ (h >>> 15)) & (this.#slots.length - 1)
  }

  /** Blob number of the id in the probe, or -1. */
  #find(): number {
    const slots = this.#slots
    if (slots.length === 0) return -1
    const ids = this.#ids
    const p = this.#probe
    const mask = slots.length - 1
    for (let s = this.#slotOf(p, 0); ; s = (s + 1) & mask) {
      const e = slots[s]!
      if (e === 0) return -1
      const at = (e - 1) * 8
      if (ids[at] === p[0] && ids[at + 1] === p[1] && ids[at + 2] === p[2] && ids[at + 3] === p[3] && ids[at + 4] === p[4] && ids[at + 5] === p[5] && ids[at + 6] === p[6] && ids[at + 7] === p[7]) return e - 1
    }
  }

  #place(b: number): void {
    const slots = this.#slots
    const mask = slots.length - 1
    let s = this.#slotOf(this.#ids, b * 8)
    while (slots[s] !== 0) s = (s + 1) & mask
    slots[s] = b + 1
  }

  #setProbe(id: Id): void {
    if (id.length !== 64 || this.#probeBytes.write(id, 0, 32, 'hex') !== 32) {
      throw new RusticError('Internal', `cannot plan blob ${JSON.stringify(id.slice(0, 80))}: not a 64-digit hex id`, { code: 'Internal' })
    }
  }

  /** The blob number of `id`, or -1 if it is not planned yet. */
  indexOf(id: Id): number {
    this.#setProbe(id)
    return this.#find()
  }

  /** Adds blob `id` (not planned yet: see {@link PlannedBlobs.indexOf}) at `loc` with `dataLength` bytes of plaintext; returns its number. */
  add(id: Id, loc: PlannedBlobLocation, dataLength: number): number {
    this.#setProbe(id)
    const b = this.#n++
    if (b === this.#pack.length) this.#grow(Math.max(1024, b * 2))
    this.#ids.set(this.#probe, b * 8)
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
    this.#place(b)
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
    this.#ids = grow(this.#ids, cap * 8)
    this.#idBytes = Buffer.from(this.#ids.buffer, this.#ids.byteOffset, this.#ids.byteLength)
    this.#pack = grow(this.#pack, cap)
    this.#offset = grow(this.#offset, cap)
    this.#length = grow(this.#length, cap)
    this.#uncompressed = grow(this.#uncompressed, cap)
    this.#dataLength = grow(this.#dataLength, cap)
    this.#firstTarget = grow(this.#firstTarget, cap)
    this.#lastTarget = grow(this.#lastTarget, cap)
    this.#slots = new Uint32Array(cap * 2)
    for (let b = 0; b < this.#n - 1; b++) this.#place(b)
  }

  /**
   * Groups the blobs into ranged pack reads: each pack is read at most once (per range), in the order packs
   * are first needed; within a pack blobs are sorted by offset and neighbours closer than `maxReadGap` are
   * merged into one read of at most `maxReadSize` bytes and {@link MAX_READ_BLOBS} blobs.
   */
  build(options: PackReadOptions): PackReads {
    const n = this.#n
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
      ids.set(this.#idBytes.subarray(b * 32, b * 32 + 32), i * 32)
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
