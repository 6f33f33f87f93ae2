import pLimit from 'p-limit'
import { readPackHeader } from '../../blob/index.js'
import { Indexer } from '../../index/Indexer.js'
import type { DecryptBackend } from '../../backend/DecryptBackend.js'
import { isRusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
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
  /** Their ids, with why each cannot be reused (e.g. a MAC check failed: written with another key). */
  unusablePacks: Array<{ id: Id; reason: string }>
}

/**
 * Makes packs that no index names usable again (packs of an interrupted backup, or packs an index lost):
 * every pack in the repository that no index file names (and that is not marked for deletion) has its
 * header read and is added to the in-memory index and to a new index file, so the next backup
 * deduplicates against it instead of uploading again. Adopted packs are indexed from then on, so a
 * later backup does not find them again. Pack files are written atomically, so a pack that exists is
 * complete.
 *
 * A pack that cannot be adopted (its header fails the MAC check, as for a pack written with another
 * repository's key, or its size does not match its header) is left alone and only listed in the result:
 * no warning, because every later backup would find it again and nothing a backup can do fixes it. It is
 * left to `check`, which reports packs no index names, and to `prune`, which removes them (as restic's
 * backup, which never looks at such packs, leaves them).
 */
export async function adoptOrphanPacks(
  indexed: IndexedRepository,
  dbe: DecryptBackend,
  options: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<AdoptResult> {
  const known = indexed.index.packs()
  const toDelete = indexed.index.packsToDelete()
  const orphans = (await dbe.backend.listWithSize('pack', options)).filter(([id]) => !known.has(id) && !toDelete.has(id))
  const result: AdoptResult = { adopted: 0, blobs: 0, unusable: 0, unusablePacks: [] }
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
          if (isRusticError(e, 'Aborted')) throw e
          result.unusable++
          result.unusablePacks.push({ id: id as Id, reason: (e as Error).message })
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
