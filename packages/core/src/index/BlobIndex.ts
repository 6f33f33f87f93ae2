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

/**
 * The in-memory index: blob id -> location, one map per blob type, built from the union of all index files.
 * When a blob is in several packs, the first one added wins (any copy works).
 * Packs listed in `packs_to_delete` (rustic's two-phase prune) are remembered but not used to locate blobs.
 */
export class BlobIndex {
  private readonly maps: Record<BlobType, Map<Id, BlobLocation>> = { data: new Map(), tree: new Map() }
  private readonly packSet = new Map<Id, BlobType>()
  private readonly extents = new Map<Id, number>()
  private readonly toDelete = new Set<Id>()

  /** Forgets everything (before loading the index again). */
  clear(): void {
    this.maps.data.clear()
    this.maps.tree.clear()
    this.packSet.clear()
    this.extents.clear()
    this.toDelete.clear()
  }

  /** Adds every pack of an index file. */
  addIndexFile(file: IndexFile): void {
    for (const pack of file.packs) {
      for (const b of pack.blobs) this.add(b.type, b.id, { packId: pack.id, offset: b.offset, length: b.length, uncompressedLength: b.uncompressedLength })
      this.packSet.set(pack.id, pack.blobs[0]?.type ?? 'data')
    }
    for (const pack of file.packsToDelete ?? []) this.toDelete.add(pack.id)
  }

  /** Adds one blob (ignored if the blob is already known). */
  add(type: BlobType, id: Id, location: BlobLocation): void {
    const end = location.offset + location.length
    if (end > (this.extents.get(location.packId) ?? 0)) this.extents.set(location.packId, end)
    const map = this.maps[type]
    if (!map.has(id)) map.set(id, location)
    if (!this.packSet.has(location.packId)) this.packSet.set(location.packId, type)
  }

  /** The location of a blob, if indexed. */
  get(type: BlobType, id: Id): BlobLocation | undefined {
    return this.maps[type].get(id)
  }

  /** True if the blob is indexed. */
  has(type: BlobType, id: Id): boolean {
    return this.maps[type].has(id)
  }

  /** Number of indexed blobs of a type. */
  count(type: BlobType): number {
    return this.maps[type].size
  }

  /** All indexed blobs of a type. */
  entries(type: BlobType): IterableIterator<[Id, BlobLocation]> {
    return this.maps[type].entries()
  }

  /** The locations of all indexed blobs of a type. */
  locations(type: BlobType): IterableIterator<BlobLocation> {
    return this.maps[type].values()
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
}
