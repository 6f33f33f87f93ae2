import pLimit from 'p-limit'
import type { Packer } from '../../blob/Packer.js'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import type { BlobLocation } from '../../index/BlobIndex.js'
import type { Progress } from '../../progress/Progress.js'
import type { BlobType } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { blobRuns } from '../blobRuns.js'

/** Neighbouring blobs of a pack closer than this are read with one request. */
const MAX_GAP = 256 * 1024
/** One read covers at most this many bytes (unless a single blob is larger). */
const MAX_READ = 8 * 1024 * 1024
/** Packs read at once. */
const PACKS_AT_ONCE = 4

interface Wanted {
  id: Id
  loc: BlobLocation
}

/**
 * Reads blobs of `type` from the source repository and adds them to `packer` (a packer of another
 * repository, which seals them with its own key and compression): each pack is read once, neighbouring
 * blobs in one request; every blob is opened (MAC checked, decompressed) and its content checked against
 * its id first. Blobs the packer already knows are skipped by it.
 * @throws RusticError `BlobNotFound` for a blob the source index lacks; `IntegrityError` for a blob whose
 *   content does not hash to its id.
 */
export async function copyBlobs(
  source: IndexedRepository,
  type: BlobType,
  ids: Iterable<Id>,
  packer: Packer,
  progress: Progress,
  signal?: AbortSignal,
): Promise<void> {
  const byPack = new Map<Id, Wanted[]>()
  let total = 0
  for (const id of ids) {
    const loc = source.locate(type, id)
    total += loc.length
    const list = byPack.get(loc.packId)
    if (list) list.push({ id, loc })
    else byPack.set(loc.packId, [{ id, loc }])
  }
  progress.setLength(total)
  await source.repo.warmUpPacks([...byPack.keys()], { signal })
  const limit = pLimit(PACKS_AT_ONCE)
  const jobs = [...byPack].map(([packId, blobs]) =>
    limit(async () => {
      blobs.sort((a, b) => a.loc.offset - b.loc.offset)
      for (const range of blobRuns(blobs, (b) => b.loc, MAX_GAP, MAX_READ)) {
        throwIfAborted(signal)
        const start = range[0]!.loc.offset
        const last = range[range.length - 1]!.loc
        const bytes = await source.repo.dbe.backend.readPartial('pack', packId, type === 'tree', start, last.offset + last.length - start, { signal })
        for (const { id, loc } of range) {
          const sealed = bytes.subarray(loc.offset - start, loc.offset - start + loc.length)
          const plain = source.repo.dbe.openBlob(sealed, loc.uncompressedLength, `${type} blob ${id} in pack ${packId}`)
          if (hashId(plain) !== id) {
            throw new RusticError('Verification', `${type} blob ${id} in pack ${packId} is corrupted: its content does not hash to its id`, {
              code: 'IntegrityError',
            })
          }
          await packer.add(id, plain)
          progress.inc(loc.length)
        }
      }
    }),
  )
  try {
    await Promise.all(jobs)
  } catch (e) {
    limit.clearQueue()
    await Promise.allSettled(jobs)
    throw e
  }
}
