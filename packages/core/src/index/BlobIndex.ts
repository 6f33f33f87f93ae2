import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { BlobType, IndexFile } from '../repofile/index.js'

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

/** Value of each lower-case hex digit's character code, -1 for other characters. */
const HEX = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i
for (let i = 0; i < 6; i++) HEX[0x61 + i] = 10 + i

/** Slot of an id (its 8 words at `at`) in a table of `mask + 1` slots: all its bits mixed. */
function slotOf(w: Uint32Array, at: number, mask: number): number {
  let h = 0x811c9dc5
  for (let i = at; i < at + WORDS; i++) h = Math.imul(h ^ w[i]!, 0x9e3779b1)
  return (h ^ (h >>> 15)) & mask
}

/** Words of 32 bits in an id. */
const WORDS = 8

/**
 * Writes the 32 bytes of a 64-digit hex id into `out` at word `at` as 8 words; false (nothing
 * meaningful written) if `id` is not 64 hex digits.
 */
function idWords(id: string, out: Uint32Array, at: number): boolean {
  if (id.length !== 64) return false
  let bad = 0
  for (let w = 0; w < WORDS; w++) {
    let v = 0
    for (let p = w * 8, end = p + 8; p < end; p++) {
      const d = HEX[id.charCodeAt(p)] ?? -1
      bad |= d
      v = (v << 4) | (d & 15)
    }
    out[at + w] = v
  }
  return bad >= 0
}

const HEX_DIGITS = '0123456789abcdef'
/** Two hex digits of each byte. */
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!)

/** The hex id of the 8 words of `words` at word `at`. */
function wordsId(words: Uint32Array, at: number): Id {
  let s = ''
  for (let w = at; w < at + WORDS; w++) {
    const v = words[w]!
    s += BYTE_HEX[v >>> 24]! + BYTE_HEX[(v >>> 16) & 255]! + BYTE_HEX[(v >>> 8) & 255]! + BYTE_HEX[v & 255]!
  }
  return s as Id
}

/**
 * The blobs of one type, held compactly: ids as 32 bytes each in one typed array, pack numbers, offsets and
 * lengths in typed arrays (about 60 bytes a blob, hash table included, where a map of objects keyed by
 * hex strings takes several times that), and an open-addressing hash table of entry numbers keyed by the
 * id's bits. Entries are kept in the order they were added.
 */
class BlobTable {
  private ids = new Uint32Array(0)
  private packs = new Uint32Array(0)
  private offsets = new Float64Array(0)
  private lengths = new Uint32Array(0)
  /** Uncompressed length + 1 for compressed blobs, 0 for the others. */
  private uncompressed = new Float64Array(0)
  /** Entry number + 1 per slot, 0 for an empty slot. */
  private slots = new Uint32Array(0)
  size = 0
  /** The id being looked up, as words. */
  private readonly probe = new Uint32Array(WORDS)

  clear(): void {
    this.ids = new Uint32Array(0)
    this.packs = new Uint32Array(0)
    this.offsets = new Float64Array(0)
    this.lengths = new Uint32Array(0)
    this.uncompressed = new Float64Array(0)
    this.slots = new Uint32Array(0)
    this.size = 0
  }

  /** Entry number of the id in `probe`, or -1. */
  private find(): number {
    const { slots, ids, probe } = this
    if (slots.length === 0) return -1
    const mask = slots.length - 1
    for (let s = slotOf(probe, 0, mask); ; s = (s + 1) & mask) {
      const e = slots[s]!
      if (e === 0) return -1
      const at = (e - 1) * WORDS
      if (
        ids[at] === probe[0] &&
        ids[at + 1] === probe[1] &&
        ids[at + 2] === probe[2] &&
        ids[at + 3] === probe[3] &&
        ids[at + 4] === probe[4] &&
        ids[at + 5] === probe[5] &&
        ids[at + 6] === probe[6] &&
        ids[at + 7] === probe[7]
      ) {
        return e - 1
      }
    }
  }

  /** Entry number of `id`, or -1. */
  indexOf(id: string): number {
    return idWords(id, this.probe, 0) ? this.find() : -1
  }

  /** Adds `id` unless present; returns false if it was present. */
  add(id: string, pack: number, offset: number, length: number, uncompressedLength: number | undefined): boolean {
    if (!idWords(id, this.probe, 0)) throw new RusticError('Internal', `cannot index blob ${JSON.stringify(id.slice(0, 80))}: not a 64-digit hex id`, { code: 'Internal' })
    if (this.find() >= 0) return false
    if (this.size === this.packs.length) this.grow()
    const e = this.size++
    this.ids.set(this.probe, e * WORDS)
    this.packs[e] = pack
    this.offsets[e] = offset
    this.lengths[e] = length
    this.uncompressed[e] = uncompressedLength === undefined ? 0 : uncompressedLength + 1
    this.place(e)
    return true
  }

  /** The entry's id. */
  id(e: number): Id {
    return wordsId(this.ids, e * WORDS)
  }

  /** The entry's location, with the pack id from `packIds`. */
  location(e: number, packIds: readonly Id[]): BlobLocation {
    const u = this.uncompressed[e]!
    const loc: BlobLocation = { packId: packIds[this.packs[e]!]!, offset: this.offsets[e]!, length: this.lengths[e]! }
    if (u > 0) loc.uncompressedLength = u - 1
    return loc
  }

  private place(e: number): void {
    const { slots } = this
    const mask = slots.length - 1
    let s = slotOf(this.ids, e * WORDS, mask)
    while (slots[s] !== 0) s = (s + 1) & mask
    slots[s] = e + 1
  }

  private grow(): void {
    const cap = Math.max(1024, this.packs.length * 2)
    const ids = new Uint32Array(cap * WORDS)
    ids.set(this.ids)
    this.ids = ids
    const packs = new Uint32Array(cap)
    packs.set(this.packs)
    this.packs = packs
    const offsets = new Float64Array(cap)
    offsets.set(this.offsets)
    this.offsets = offsets
    const lengths = new Uint32Array(cap)
    lengths.set(this.lengths)
    this.lengths = lengths
    const uncompressed = new Float64Array(cap)
    uncompressed.set(this.uncompressed)
    this.uncompressed = uncompressed
    // at most half full
    this.slots = new Uint32Array(cap * 2)
    for (let e = 0; e < this.size; e++) this.place(e)
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

  /** Adds one blob (ignored if the blob is already known). */
  add(type: BlobType, id: Id, location: BlobLocation): void {
    const end = location.offset + location.length
    if (end > (this.extents.get(location.packId) ?? 0)) this.extents.set(location.packId, end)
    this.tables[type].add(id, this.packNumber(location.packId), location.offset, location.length, location.uncompressedLength)
    if (!this.packSet.has(location.packId)) this.packSet.set(location.packId, type)
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
