import type { ReadBackend, CallOptions } from '../../backend/Backend.js'
import { decompress } from '../../compression/index.js'
import type { Key } from '../../crypto/Key.js'
import { RusticError } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import type { BlobIndex, BlobLocation } from '../../index/BlobIndex.js'
import { parseTreeLinks, type NodeLinks } from '../../repofile/parseTreeLinks.js'
import { LruCache } from '../../util/LruCache.js'
import { BlobVerifier } from './BlobVerifier.js'
import type { VerifiedBlob } from './PackVerifier.js'

/** Tree packs up to this size are downloaded whole (once) when one of their trees is needed. */
const WHOLE_PACK_MAX_BYTES = 32 * 1024 * 1024
/** Memory for whole tree packs kept between trees. */
const WHOLE_PACK_CACHE_BYTES = 64 * 1024 * 1024

/** A tree pack downloaded whole, with the trees found sound in those bytes (by offset). */
interface Download {
  bytes: Uint8Array
  verified: Map<number, VerifiedBlob>
}

/**
 * Reads trees for `check` straight from the repository (never from a cache): a tree pack is downloaded
 * whole the first time one of its trees is needed and kept for a while, since a walk reads many trees
 * of the same few packs. With `onPack`, each download is handed over once the walk is done with it (when it
 * leaves the loader's memory, or at {@link TreeLoader.flush}), with the trees the walk opened from it, so that
 * `readData` can verify the pack from those bytes instead of downloading it again, without opening those
 * trees again: they are opened with the checks of `readData` (`BlobVerifier.open`), so a tree opened here is one
 * `readData` finds sound. A tree that does not open so is opened as without `onPack`, for the walk's own message.
 */
export class TreeLoader {
  private readonly packs = new LruCache<Id, Promise<Download>>(WHOLE_PACK_CACHE_BYTES / WHOLE_PACK_MAX_BYTES)
  /** Downloads not handed to `onPack` yet. */
  private readonly unhanded = new Map<Id, Promise<Download>>()
  private readonly opener: BlobVerifier | undefined

  constructor(
    private readonly backend: ReadBackend,
    private readonly key: Key,
    private readonly index: BlobIndex,
    /** Sizes of the packs in the repository (from its listing). */
    private readonly packSizes: ReadonlyMap<Id, number>,
    private readonly onPack?: (packId: Id, bytes: Uint8Array, verified: ReadonlyMap<number, VerifiedBlob>) => void,
  ) {
    this.opener = onPack ? new BlobVerifier(key) : undefined
  }

  /**
   * The nodes of tree `id`, with what a walk needs of them (see `parseTreeLinks`). Throws `BlobNotFound` if
   * the index does not list it, else whatever reading, opening or parsing it met (`IntegrityError` if it does
   * not hash to its id).
   */
  async tree(id: Id, options?: CallOptions): Promise<NodeLinks[]> {
    const loc = this.index.get('tree', id)
    if (!loc) throw new RusticError('Repository', `tree ${id} not found in index`, { code: 'BlobNotFound' })
    const { sealed, download } = await this.sealed(loc, options)
    if (download && this.opener) {
      const entry: VerifiedBlob = { id, length: loc.length, ...(loc.uncompressedLength ? { uncompressedLength: loc.uncompressedLength } : {}) }
      const plain = this.opener.open(sealed, entry)
      if (plain !== undefined) {
        download.verified.set(loc.offset, entry)
        return parseTreeLinks(plain, `tree ${id}`)
      }
    }
    const what = `tree ${id} in pack ${loc.packId}`
    const opened = this.key.decrypt(sealed, what)
    const plain = loc.uncompressedLength ? decompress(opened, what, loc.uncompressedLength) : opened
    const actual = hashId(plain)
    if (actual !== id) {
      throw new RusticError('Verification', `${what} is corrupted: its content hashes to ${actual}`, { code: 'IntegrityError' })
    }
    return parseTreeLinks(plain, `tree ${id}`)
  }

  /** Hands every download not handed over yet to `onPack` (the walk is done); resolves once it has. */
  async flush(): Promise<void> {
    await Promise.all([...this.unhanded.keys()].map((id) => this.handOver(id)))
  }

  /** Hands download `id` to `onPack` once it is there (a failed one is not handed over). */
  private async handOver(id: Id): Promise<void> {
    const download = this.unhanded.get(id)
    if (download === undefined) return
    this.unhanded.delete(id)
    const d = await download.catch(() => undefined)
    if (d !== undefined) this.onPack!(id, d.bytes, d.verified)
  }

  private async sealed(loc: BlobLocation, options?: CallOptions): Promise<{ sealed: Uint8Array; download?: Download }> {
    const size = this.packSizes.get(loc.packId)
    if (size === undefined) {
      throw new RusticError('Repository', `pack ${loc.packId} does not exist`, { code: 'PackNotFound' })
    }
    if (size > WHOLE_PACK_MAX_BYTES) {
      return { sealed: await this.backend.readPartial('pack', loc.packId, true, loc.offset, loc.length, options) }
    }
    let whole = this.packs.get(loc.packId)
    if (!whole) {
      whole = this.backend.readFull('pack', loc.packId, options).then((bytes) => ({ bytes, verified: new Map<number, VerifiedBlob>() }))
      const started = whole
      whole.catch(() => {
        this.packs.delete(loc.packId)
        if (this.unhanded.get(loc.packId) === started) this.unhanded.delete(loc.packId)
      })
      this.packs.set(loc.packId, whole)
      if (this.onPack) {
        // (the first download of a pack only; the ones that left the loader's memory are handed over now)
        if (!this.unhanded.has(loc.packId)) this.unhanded.set(loc.packId, whole)
        for (const id of [...this.unhanded.keys()]) if (!this.packs.has(id)) void this.handOver(id)
      }
    }
    const download = await whole
    const { bytes } = download
    if (loc.offset + loc.length > bytes.length) {
      throw new RusticError('Repository', `pack ${loc.packId} is too short (${bytes.length} bytes) to hold the tree at offset ${loc.offset}`, {
        code: 'DecodeError',
      })
    }
    return { sealed: bytes.subarray(loc.offset, loc.offset + loc.length), download }
  }
}
