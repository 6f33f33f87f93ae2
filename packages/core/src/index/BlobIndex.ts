import type { Id } from '../id/Id.js'
import { IdTable } from '../id/IdTable.js'
import { grow } from '../util/growArray.js'
import type { BlobType, IndexBlob, IndexFile } from '../repofile/index.js'
import type { ScannedIndex } from '../repofile/scanIndexBytes.js'

/** Where a blob is stored. */
export interface BlobLocation {
  /** The pack holding the blob. */
  packId: Id
  /** Byte offset of the encrypted blob in the pack. */
  offset: number
  /** Stored (encrypted, possibly compressed) length. */
  length: number
  /** Length before compression, when the blob is compressed. */
  uncompressedLength?: number
}

/**
 * The blobs of one type, held compactly: ids as 32 bytes each in one typed array, pack numbers, offsets and
 * lengths in typed arrays (about 60 bytes a blob, hash table included, where a map of objects keyed by
 * hex strings takes several times that), and an open-addressing hash table of entry numbers keyed by the
 * id's bits. Entries are kept in the order they were added.
 */
class BlobTable {
  /** The ids; their entry numbers index the arrays below. */
  private readonly ids = new IdTable()
  private packs = new Uint32Array(0)
  private offsets = new Float64Array(0)
  private lengths = new Uint32Array(0)
  /** Uncompressed length + 1 for compressed blobs, 0 for the others. */
  private uncompressed = new Float64Array(0)

  /** Number of entries. */
  get size(): number {
    return this.ids.size
  }

  clear(): void {
    this.ids.clear()
    this.packs = new Uint32Array(0)
    this.offsets = new Float64Array(0)
    this.lengths = new Uint32Array(0)
    this.uncompressed = new Float64Array(0)
  }

  /** Entry number of `id`, or -1. */
  indexOf(id: string): number {
    return this.ids.indexOf(id)
  }

  /** Adds `id` unless present; returns false if it was present. */
  add(id: string, pack: number, offset: number, length: number, uncompressedLength: number | undefined): boolean {
    return this.set(this.ids.add(id, 'index blob'), pack, offset, length, uncompressedLength)
  }

  /** {@link BlobTable.add} for an id given as 64 hex digits at byte `at` of `bytes`. */
  addHexBytes(bytes: Uint8Array, at: number, pack: number, offset: number, length: number, uncompressedLength: number | undefined): boolean {
    return this.set(this.ids.addHexBytes(bytes, at, 'index blob'), pack, offset, length, uncompressedLength)
  }

  /** Sets the data of entry `e` as the id table's `add` returned it; false if the id was there already. */
  private set(e: number, pack: number, offset: number, length: number, uncompressedLength: number | undefined): boolean {
    if (e < 0) return false
    if (e === this.packs.length) this.grow()
    this.packs[e] = pack
    this.offsets[e] = offset
    this.lengths[e] = length
    this.uncompressed[e] = uncompressedLength === undefined ? 0 : uncompressedLength + 1
    return true
  }

  /** The entry's id. */
  id(e: number): Id {
    return this.ids.id(e)
  }

  /** The entry's location, with the pack id from `packIds`. */
  location(e: number, packIds: readonly Id[]): BlobLocation {
    const u = this.uncompressed[e]!
    const loc: BlobLocation = { packId: packIds[this.packs[e]!]!, offset: this.offsets[e]!, length: this.lengths[e]! }
    if (u > 0) loc.uncompressedLength = u - 1
    return loc
  }

  /** Calls `fn` with each entry's pack number, stored length and whether it is compressed (a non-zero uncompressed length), in entry order. */
  forEachStored(fn: (pack: number, length: number, compressed: boolean) => void): void {
    for (let e = 0; e < this.size; e++) fn(this.packs[e]!, this.lengths[e]!, this.uncompressed[e]! > 1)
  }

  /** Grows the arrays to the id table's capacity. */
  private grow(): void {
    const cap = this.ids.capacity
    this.packs = grow(this.packs, cap)
    this.offsets = grow(this.offsets, cap)
    this.lengths = grow(this.lengths, cap)
    this.uncompressed = grow(this.uncompressed, cap)
  }
}

/**
 * The in-memory index: blob id -> location, one table per blob type, built from the union of all index files.
 * When a blob is in several packs, the first one added wins (any copy works).
 * Packs listed in `packs_to_delete` (rustic's two-phase prune) are remembered but not used to locate blobs.
 *
 * Blobs are held in typed arrays (see `BlobTable`), not as one object per blob: the index of a large
 * repository takes tens of bytes per blob. {@link BlobIndex.get} and the iterators make the
 * {@link BlobLocation} objects they return as they go.
 */
export class BlobIndex {
  private readonly tables: Record<BlobType, BlobTable> = { data: new BlobTable(), tree: new BlobTable() }
  /** Pack ids by pack number. */
  private readonly packIds: Id[] = []
  /** Pack number by pack id. */
  private readonly packNumbers = new Map<Id, number>()
  private readonly packSet = new Map<Id, BlobType>()
  private readonly extents = new Map<Id, number>()
  private readonly toDelete = new Set<Id>()

  /** Forgets everything (before loading the index again). */
  clear(): void {
    this.tables.data.clear()
    this.tables.tree.clear()
    this.packIds.length = 0
    this.packNumbers.clear()
    this.packSet.clear()
    this.extents.clear()
    this.toDelete.clear()
  }

  /** Adds every pack of an index file. */
  addIndexFile(file: IndexFile): void {
    for (const pack of file.packs) {
      const n = this.packNumber(pack.id)
      let extent = this.extents.get(pack.id) ?? 0
      for (const b of pack.blobs) {
        const end = b.offset + b.length
        if (end > extent) extent = end
        this.tables[b.type].add(b.id, n, b.offset, b.length, b.uncompressedLength)
      }
      if (pack.blobs.length > 0) this.extents.set(pack.id, extent)
      if (!this.packSet.has(pack.id)) this.packSet.set(pack.id, pack.blobs[0]?.type ?? 'data')
    }
    for (const pack of file.packsToDelete ?? []) this.toDelete.add(pack.id)
  }

  /** Adds every pack of an index file read by `scanIndexBytes` (as {@link BlobIndex.addIndexFile} does). */
  addScannedIndex(file: ScannedIndex): void {
    const p = file.packs
    let e = 0
    for (let i = 0; i < p.packIds.length; i++) {
      const packId = p.packIds[i]!
      const n = this.packNumber(packId)
      const first = e
      let extent = this.extents.get(packId) ?? 0
      for (const end = p.packEnds[i]!; e < end; e++) {
        const offset = p.offsets[e]!
        const length = p.lengths[e]!
        if (offset + length > extent) extent = offset + length
        const ul = p.uncompressed[e]!
        this.tables[p.type(e)].addHexBytes(p.json, p.idAt[e]!, n, offset, length, ul === 0 ? undefined : ul)
      }
      if (e > first) this.extents.set(packId, extent)
      if (!this.packSet.has(packId)) this.packSet.set(packId, e > first ? p.type(first) : 'data')
    }
    if (file.packsToDelete !== undefined) for (const id of file.packsToDelete.packIds) this.toDelete.add(id)
  }

  /** Adds one blob (ignored if the blob is already known). */
  add(type: BlobType, id: Id, location: BlobLocation): void {
    const end = location.offset + location.length
    if (end > (this.extents.get(location.packId) ?? 0)) this.extents.set(location.packId, end)
    this.tables[type].add(id, this.packNumber(location.packId), location.offset, location.length, location.uncompressedLength)
    if (!this.packSet.has(location.packId)) this.packSet.set(location.packId, type)
  }

  /**
   * Adds the blobs of pack `packId` (with its number, extent and type looked up once) as {@link BlobIndex.add}
   * adds a blob not indexed yet; each blob already indexed (before, or earlier in `blobs`) goes to `onKnown`
   * instead and changes nothing (not the pack's extent or type either).
   */
  addPack(packId: Id, blobs: readonly IndexBlob[], onKnown: (blob: IndexBlob) => void): void {
    const n = this.packNumber(packId)
    const known = this.extents.get(packId)
    let extent = known ?? 0
    let typed = this.packSet.has(packId)
    for (const b of blobs) {
      if (!this.tables[b.type].add(b.id, n, b.offset, b.length, b.uncompressedLength)) {
        onKnown(b)
        continue
      }
      if (b.offset + b.length > extent) extent = b.offset + b.length
      if (!typed) {
        this.packSet.set(packId, b.type)
        typed = true
      }
    }
    if (extent > (known ?? 0)) this.extents.set(packId, extent)
  }

  /** The location of a blob, if indexed. */
  get(type: BlobType, id: Id): BlobLocation | undefined {
    const t = this.tables[type]
    const e = t.indexOf(id)
    return e < 0 ? undefined : t.location(e, this.packIds)
  }

  /** True if the blob is indexed. */
  has(type: BlobType, id: Id): boolean {
    return this.tables[type].indexOf(id) >= 0
  }

  /** Number of indexed blobs of a type. */
  count(type: BlobType): number {
    return this.tables[type].size
  }

  /** All indexed blobs of a type, in the order they were added. */
  *entries(type: BlobType): IterableIterator<[Id, BlobLocation]> {
    const t = this.tables[type]
    for (let e = 0; e < t.size; e++) yield [t.id(e), t.location(e, this.packIds)]
  }

  /** The locations of all indexed blobs of a type, in the order they were added. */
  *locations(type: BlobType): IterableIterator<BlobLocation> {
    const t = this.tables[type]
    for (let e = 0; e < t.size; e++) yield t.location(e, this.packIds)
  }

  /**
   * Calls `fn` for every indexed blob of a type, in the order they were added, with its pack's number (below
   * {@link BlobIndex.packCount}), stored length and whether it is compressed: the sizes without making a
   * {@link BlobLocation} a blob as {@link BlobIndex.locations} does.
   */
  forEachStored(type: BlobType, fn: (pack: number, length: number, compressed: boolean) => void): void {
    this.tables[type].forEachStored(fn)
  }

  /** Number of packs known (of either type, also packs that no blob is located in any more): pack numbers are below it. */
  get packCount(): number {
    return this.packIds.length
  }

  /** Ids of all indexed packs, with the blob type each holds. */
  packs(): ReadonlyMap<Id, BlobType> {
    return this.packSet
  }

  /** Where the last indexed blob of a pack ends (the pack's blob area; its header follows). */
  packExtent(packId: Id): number | undefined {
    return this.extents.get(packId)
  }

  /** Packs marked for deletion by a previous prune. */
  packsToDelete(): ReadonlySet<Id> {
    return this.toDelete
  }

  private packNumber(packId: Id): number {
    let n = this.packNumbers.get(packId)
    if (n === undefined) {
      n = this.packIds.length
      this.packIds.push(packId)
      this.packNumbers.set(packId, n)
    }
    return n
  }
}
