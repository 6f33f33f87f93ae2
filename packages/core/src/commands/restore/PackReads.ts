import type { Id } from '../../id/Id.js'
import type { PackRead, PlannedBlob } from './RestorePlan.js'

/** The typed arrays of {@link PackReads} (made by `PlannedBlobs.build`). */
export interface PackReadsData {
  /** By read: the pack, the range's start and length, its first blob (blobStart has one more element: the end). */
  packIds: Id[]
  offsets: Float64Array
  lengths: Float64Array
  blobStart: Uint32Array
  /** By blob (in read order): the 32 bytes of its id, its offset and sealed length in the pack. */
  ids: Uint8Array
  blobOffsets: Float64Array
  blobLengths: Uint32Array
  /** Uncompressed length + 1 for compressed blobs, 0 for the others. */
  uncompressed: Uint32Array
  dataLengths: Uint32Array
  /** First target of each blob (one more element: the end). */
  targetStart: Uint32Array
  /** By target: the file (index into the plan's `files`) and the offset in it. */
  targetFiles: Uint32Array
  targetOffsets: Float64Array
}

/**
 * The ranged pack reads of a restore plan ({@link RestorePlan.reads}), in the order restore issues them,
 * held compactly: typed arrays by read, by blob (blob ids as 32-byte slices of one buffer) and by target
 * (where a blob goes: file and offset), each read's blobs and each blob's targets an index range, about
 * 70 bytes a blob. Reads are numbered `0..length-1`, blobs `0..blobCount-1` in read order (read `r` has
 * blobs `firstBlob(r)` to `firstBlob(r + 1) - 1`), targets likewise. {@link PackReads.at} and iterating
 * make {@link PackRead} objects.
 */
export class PackReads implements Iterable<PackRead> {
  readonly #d: PackReadsData

  /** @internal Made by `planRestore` (or `planPackReads`). */
  constructor(data: PackReadsData) {
    this.#d = data
  }

  /** Number of reads. */
  get length(): number {
    return this.#d.packIds.length
  }

  /** Number of blobs of all reads. */
  get blobCount(): number {
    return this.#d.blobOffsets.length
  }

  /** The pack of read `r`. */
  packId(r: number): Id {
    return this.#d.packIds[r]!
  }

  /** Start of read `r`'s range in its pack. */
  offset(r: number): number {
    return this.#d.offsets[r]!
  }

  /** Length of read `r`'s range. */
  rangeLength(r: number): number {
    return this.#d.lengths[r]!
  }

  /** Read `r`'s first blob; its blobs end where read `r + 1`'s start (`firstBlob(length)` is `blobCount`). */
  firstBlob(r: number): number {
    return this.#d.blobStart[r]!
  }

  /** The id of blob `b`. */
  blobId(b: number): Id {
    return Buffer.from(this.#d.ids.buffer, this.#d.ids.byteOffset + b * 32, 32).toString('hex') as Id
  }

  /** Offset of sealed blob `b` in its pack. */
  blobOffset(b: number): number {
    return this.#d.blobOffsets[b]!
  }

  /** Sealed (encrypted, maybe compressed) length of blob `b`. */
  blobLength(b: number): number {
    return this.#d.blobLengths[b]!
  }

  /** Uncompressed length of blob `b` if it is compressed. */
  uncompressedLength(b: number): number | undefined {
    const u = this.#d.uncompressed[b]!
    return u === 0 ? undefined : u - 1
  }

  /** Plaintext length of blob `b`. */
  dataLength(b: number): number {
    return this.#d.dataLengths[b]!
  }

  /** Blob `b`'s first target; its targets end where blob `b + 1`'s start (`firstTarget(blobCount)` is the number of targets). */
  firstTarget(b: number): number {
    return this.#d.targetStart[b]!
  }

  /** The file (index into {@link RestorePlan.files}) of target `t`. */
  targetFile(t: number): number {
    return this.#d.targetFiles[t]!
  }

  /** The offset in its file of target `t`. */
  targetOffset(t: number): number {
    return this.#d.targetOffsets[t]!
  }

  /** Blob `b` as an object. */
  blob(b: number): PlannedBlob {
    const d = this.#d
    const targets: PlannedBlob['targets'] = []
    for (let t = d.targetStart[b]!; t < d.targetStart[b + 1]!; t++) targets.push({ file: d.targetFiles[t]!, offset: d.targetOffsets[t]! })
    const blob: PlannedBlob = { id: this.blobId(b), offset: d.blobOffsets[b]!, length: d.blobLengths[b]!, dataLength: d.dataLengths[b]!, targets }
    const u = this.uncompressedLength(b)
    if (u !== undefined) blob.uncompressedLength = u
    return blob
  }

  /** Read `r` as an object, with its blobs; a `RangeError` if there is none. */
  at(r: number): PackRead {
    if (!Number.isInteger(r) || r < 0 || r >= this.length) throw new RangeError(`no pack read ${r} (the plan has ${this.length})`)
    const blobs: PlannedBlob[] = []
    for (let b = this.firstBlob(r); b < this.firstBlob(r + 1); b++) blobs.push(this.blob(b))
    return { packId: this.packId(r), offset: this.offset(r), length: this.rangeLength(r), blobs }
  }

  /** The reads in order, as objects. */
  *[Symbol.iterator](): Iterator<PackRead> {
    for (let r = 0; r < this.length; r++) yield this.at(r)
  }
}
