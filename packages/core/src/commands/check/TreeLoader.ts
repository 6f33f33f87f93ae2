import type { ReadBackend, CallOptions } from '../../backend/Backend.js'
import { decompress } from '../../compression/index.js'
import type { Key } from '../../crypto/Key.js'
import { RusticError } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import type { BlobIndex, BlobLocation } from '../../index/BlobIndex.js'
import { parseTreeLinks, type NodeLinks } from '../../repofile/parseTreeLinks.js'
import { LruCache } from '../../util/LruCache.js'

/** Tree packs up to this size are downloaded whole (once) when one of their trees is needed. */
const WHOLE_PACK_MAX_BYTES = 32 * 1024 * 1024
/** Memory for whole tree packs kept between trees. */
const WHOLE_PACK_CACHE_BYTES = 64 * 1024 * 1024

/**
 * Reads trees for `check` straight from the repository (never from a cache): a tree pack is downloaded
 * whole the first time one of its trees is needed and kept for a while, since a walk reads many trees
 * of the same few packs. Each download is handed to `onPack`, so that `readData` can verify the pack
 * from it instead of downloading it again.
 */
export class TreeLoader {
  private readonly packs = new LruCache<Id, Promise<Uint8Array>>(WHOLE_PACK_CACHE_BYTES / WHOLE_PACK_MAX_BYTES)

  constructor(
    private readonly backend: ReadBackend,
    private readonly key: Key,
    private readonly index: BlobIndex,
    /** Sizes of the packs in the repository (from its listing). */
    private readonly packSizes: ReadonlyMap<Id, number>,
    private readonly onPack?: (packId: Id, bytes: Uint8Array) => void,
  ) {}

  /**
   * The nodes of tree `id`, with what a walk needs of them (see `parseTreeLinks`). Throws `BlobNotFound` if
   * the index does not list it, else whatever reading, opening or parsing it met (`IntegrityError` if it does
   * not hash to its id).
   */
  async tree(id: Id, options?: CallOptions): Promise<NodeLinks[]> {
    const loc = this.index.get('tree', id)
    if (!loc) throw new RusticError('Repository', `tree ${id} not found in index`, { code: 'BlobNotFound' })
    const sealed = await this.sealed(loc, options)
    const what = `tree ${id} in pack ${loc.packId}`
    const opened = this.key.decrypt(sealed, what)
    const plain = loc.uncompressedLength ? decompress(opened, what, loc.uncompressedLength) : opened
    const actual = hashId(plain)
    if (actual !== id) {
      throw new RusticError('Verification', `${what} is corrupted: its content hashes to ${actual}`, { code: 'IntegrityError' })
    }
    return parseTreeLinks(plain, `tree ${id}`)
  }

  private async sealed(loc: BlobLocation, options?: CallOptions): Promise<Uint8Array> {
    const size = this.packSizes.get(loc.packId)
    if (size === undefined) {
      throw new RusticError('Repository', `pack ${loc.packId} does not exist`, { code: 'PackNotFound' })
    }
    if (size > WHOLE_PACK_MAX_BYTES) {
      return this.backend.readPartial('pack', loc.packId, true, loc.offset, loc.length, options)
    }
    let whole = this.packs.get(loc.packId)
    if (!whole) {
      whole = this.backend.readFull('pack', loc.packId, options).then((bytes) => {
        this.onPack?.(loc.packId, bytes)
        return bytes
      })
      whole.catch(() => this.packs.delete(loc.packId))
      this.packs.set(loc.packId, whole)
    }
    const bytes = await whole
    if (loc.offset + loc.length > bytes.length) {
      throw new RusticError('Repository', `pack ${loc.packId} is too short (${bytes.length} bytes) to hold the tree at offset ${loc.offset}`, {
        code: 'DecodeError',
      })
    }
    return bytes.subarray(loc.offset, loc.offset + loc.length)
  }
}
