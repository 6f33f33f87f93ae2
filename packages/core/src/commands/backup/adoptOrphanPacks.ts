import pLimit from 'p-limit'
import { readPackHeader } from '../../blob/index.js'
import { Indexer } from '../../index/Indexer.js'
import type { DecryptBackend } from '../../backend/DecryptBackend.js'
import type { Id } from '../../id/Id.js'
import type { WarningHandler } from '../../progress/Progress.js'
import { packSizeFromBlobs, type IndexPack } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'

/** What {@link adoptOrphanPacks} found. */
export interface AdoptResult {
  /** Packs that no index named and that were added to a new index file. */
  adopted: number
  /** Blobs in them. */
  blobs: number
  /** Packs that could not be read or whose size does not match their header (left alone). */
  unusable: number
}

/**
 * Makes the packs of an interrupted backup usable again: every pack in the repository that no index
 * file names (and that is not marked for deletion) has its header read and is added to the in-memory
 * index and to a new index file, so the next backup deduplicates against it instead of uploading again.
 * Pack files are written atomically, so a pack that exists is complete; one whose size does not match
 * its header is left alone.
 */
export async function adoptOrphanPacks(
  indexed: IndexedRepository,
  dbe: DecryptBackend,
  options: { signal?: AbortSignal; onWarning?: WarningHandler; concurrency?: number } = {},
): Promise<AdoptResult> {
  const known = indexed.index.packs()
  const toDelete = indexed.index.packsToDelete()
  const orphans = (await dbe.backend.listWithSize('pack', options)).filter(([id]) => !known.has(id) && !toDelete.has(id))
  const result: AdoptResult = { adopted: 0, blobs: 0, unusable: 0 }
  if (orphans.length === 0) return result
  const indexer = new Indexer(dbe, { signal: options.signal })
  const limit = pLimit(options.concurrency ?? 8)
  await Promise.all(
    orphans.map(([id, size]) =>
      limit(async () => {
        let pack: IndexPack
        try {
          const blobs = await readPackHeader(dbe, id, size, options.signal)
          if (packSizeFromBlobs(blobs) !== size) throw new Error(`size ${size} does not match its header`)
          pack = { id, blobs: blobs.map((b) => ({ ...b })) }
        } catch (e) {
          result.unusable++
          options.onWarning?.(`pack ${id} is not in any index and cannot be reused: ${(e as Error).message}`, e)
          return
        }
        for (const b of pack.blobs) {
          indexed.index.add(b.type, b.id, { packId: id as Id, offset: b.offset, length: b.length, uncompressedLength: b.uncompressedLength })
        }
        await indexer.add(pack)
        result.adopted++
        result.blobs += pack.blobs.length
      }),
    ),
  )
  await indexer.finalize()
  return result
}
