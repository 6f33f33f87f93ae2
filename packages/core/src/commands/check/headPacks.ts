import type { Id } from '../../id/Id.js'
import type { PackBlob } from '../../repofile/PackHeader.js'
import { byOffset } from './byOffset.js'
import type { PackToRead } from './PackDataReader.js'
import type { PackVerification } from './PackVerifier.js'
import type { VerifyPool } from './VerifyPool.js'

/**
 * A pack a verify worker began verifying by the pack's own header before the index was loaded (see
 * {@link startHeadPacks}).
 */
export interface HeadPack {
  id: Id
  /** Its listed size. */
  size: number
  /** The worker's lane. */
  lane: number
  /** What the worker found and the header's entries it verified the pack with; `undefined` if it could not. */
  result: Promise<{ verification: PackVerification; head: PackBlob[] } | undefined>
}

/**
 * Gives each worker of `pool` one of the largest listed packs (`packSizes`) to verify by the pack's own header
 * while this thread loads the index: the workers are up before the index is, and a pack read in the usual way
 * needs the index's entries. Large packs, since data packs are (tree packs, which the worker skips, are read by
 * the tree walk). See {@link headVerification} for what the result is worth.
 * @param localPath - the pack's local file (see `ReadBackend.localPath`).
 * @param pieceBytes - the size of the pieces the workers read (see `planPackReads`).
 */
export function startHeadPacks(
  pool: VerifyPool,
  packSizes: ReadonlyMap<Id, number>,
  localPath: (id: Id) => Promise<string | undefined>,
  pieceBytes: number,
): HeadPack[] {
  const largest = largestFirst(packSizes).slice(0, pool.lanes)
  return largest.map(([id, size], lane) => {
    const result = (async () => {
      const path = await localPath(id)
      return path === undefined ? undefined : await pool.verifyHead(lane, path, id, size, pieceBytes)
    })().catch(() => undefined)
    return { id, size, lane, result }
  })
}

/**
 * The listed packs (`packSizes`), the largest first (the same sizes by id): {@link startHeadPacks} gives the first
 * ones (one per worker) to the workers.
 */
export function largestFirst(packSizes: Iterable<readonly [Id, number]>): Array<[Id, number]> {
  return Array.from(packSizes, ([id, size]): [Id, number] => [id, size]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
}

/**
 * What the worker found for `pack` (see {@link startHeadPacks}), if that is what verifying the pack with its index
 * entries finds: the pack's size is the one the worker was given and the header's entries are exactly the index's
 * (type, id, offset, length, uncompressed length), so that the verifier had the same entries in the same order
 * (`PackVerifier` takes them by offset). `undefined` otherwise (the pack is to be verified as usual).
 */
export async function headVerification(head: HeadPack, pack: PackToRead): Promise<PackVerification | undefined> {
  const found = await head.result
  if (found === undefined || head.id !== pack.id || head.size !== pack.size) return undefined
  const indexed = byOffset(pack.blobs)
  const { head: blobs } = found
  if (blobs.length !== indexed.length) return undefined
  for (let i = 0; i < blobs.length; i++) {
    const h = blobs[i]!
    const e = indexed[i]!
    if (h.type !== e.type || h.id !== e.id || h.offset !== e.offset || h.length !== e.length || h.uncompressedLength !== e.uncompressedLength) return undefined
  }
  return found.verification
}
