import type { Indexer } from '../../index/Indexer.js'
import { Packer } from '../../blob/Packer.js'
import { PackSizer } from '../../blob/PackSizer.js'
import { SealPool } from '../../blob/SealPool.js'
import { RusticError } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import { BlobIndex } from '../../index/BlobIndex.js'
import type { Progress } from '../../progress/Progress.js'
import type { BlobType, IndexBlob } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { blobRuns } from '../blobRuns.js'
import type { PrunePack } from './PrunePlan.js'

/** Blobs of one pack this close together are read in one request. */
const MAX_GAP = 1 << 20
/** A read covers at most this many bytes (unless one blob is larger). */
const MAX_READ = 8 << 20
/** Reads in flight while the blobs of an earlier one are copied. */
const READS_AHEAD = 3

/** Options of {@link repackBlobs}. */
export interface RepackOptions {
  /** Expected size of each type's packs after the prune: new packs get the target size the repository has then. */
  sizeAfter: Record<BlobType, number>
  /** Compress blobs stored uncompressed (`repackUncompressed`). */
  recompress: boolean
  /** Open each blob (MAC, decompression) and check its id before copying it (not with `fastRepack`). */
  verify: boolean
  signal?: AbortSignal
  /** Counts stored bytes copied. */
  progress: Progress
}

/** What {@link repackBlobs} did. */
export interface RepackStats {
  blobs: number
  /** Stored bytes of the blobs copied, as read. */
  bytes: number
  /** New pack files. */
  packs: number
}

interface Read {
  packId: Id
  tree: boolean
  offset: number
  length: number
  blobs: IndexBlob[]
}

/** Neighbouring blobs of each pack in reads of up to {@link MAX_READ} bytes. */
function planReads(packs: PrunePack[]): Read[] {
  return packs.flatMap((p) =>
    blobRuns(p.copy ?? [], (b) => b, MAX_GAP, MAX_READ).map((blobs) => {
      const last = blobs[blobs.length - 1]!
      return { packId: p.id, tree: p.blobType === 'tree', offset: blobs[0]!.offset, length: last.offset + last.length - blobs[0]!.offset, blobs }
    }),
  )
}

/**
 * Copies the `copy` blobs of the packs into new packs (rustic's repacker), through the repository's
 * packer: trees and data into packs of their own type, at a fixed target size, streamed to the backend
 * where it can. Each new pack goes to `indexer` once stored. Blobs are read a few ranges ahead and
 * added in order, so memory stays at a few reads plus the packer's packs in flight. By default every blob
 * is opened and checked against its id first and copied as stored; with `recompress` uncompressed blobs
 * are compressed again (data blobs on seal worker threads where they can run).
 * @throws RusticError `IntegrityError` / `MacMismatch` naming a damaged blob and its pack; a backend error;
 * `Aborted`. Packs stored before the failure stay, no index names them yet (a later prune removes them).
 */
export async function repackBlobs(repo: Repository, packs: PrunePack[], indexer: Indexer, options: RepackOptions): Promise<RepackStats> {
  const reads = planReads(packs)
  const stats: RepackStats = { blobs: 0, bytes: 0, packs: 0 }
  if (reads.length === 0) return stats
  const failed = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal
  const dbe = repo.dbe
  const empty = new BlobIndex() // every blob handed over is copied; the indexer skips blobs it already has
  const needsPool = options.recompress && reads.some((r) => !r.tree && r.blobs.some((b) => b.uncompressedLength === undefined))
  const pool = needsPool ? await SealPool.start(dbe) : undefined
  const packers = new Map<BlobType, Packer>()
  const packer = (type: BlobType): Packer => {
    let p = packers.get(type)
    if (!p) {
      const target = PackSizer.forType(repo.config, type, options.sizeAfter[type]).targetSize()
      p = new Packer(dbe, type, indexer, empty, { sizer: PackSizer.fixed(target), signal, sealPool: type === 'data' ? pool : undefined })
      packers.set(type, p)
    }
    return p
  }

  const inflight: Array<Promise<Uint8Array>> = []
  let next = 0
  const fill = (): void => {
    while (next < reads.length && inflight.length < READS_AHEAD) {
      const r = reads[next++]!
      const p = dbe.backend.readPartial('pack', r.packId, r.tree, r.offset, r.length, { signal })
      p.catch(() => {}) // surfaced when awaited
      inflight.push(p)
    }
  }
  try {
    fill()
    for (const r of reads) {
      const bytes = await inflight.shift()!
      fill()
      for (const b of r.blobs) {
        const sealed = bytes.subarray(b.offset - r.offset, b.offset - r.offset + b.length)
        const what = `${b.type} blob ${b.id} in pack ${r.packId}`
        if (!options.verify) {
          await packer(b.type).addSealed(b.id, sealed, b.uncompressedLength)
        } else {
          const plain = dbe.openBlob(sealed, b.uncompressedLength, what)
          if (hashId(plain) !== b.id) {
            throw new RusticError('Verification', `${what} is corrupted: its content does not hash to its id; nothing was removed. Run check`, {
              code: 'IntegrityError',
            })
          }
          if (options.recompress && b.uncompressedLength === undefined) await packer(b.type).add(b.id, plain)
          else await packer(b.type).addSealed(b.id, sealed, b.uncompressedLength)
        }
        stats.blobs++
        stats.bytes += b.length
        options.progress.inc(b.length)
      }
    }
    for (const p of packers.values()) stats.packs += (await p.finalize()).packs
    return stats
  } catch (e) {
    failed.abort(e)
    await Promise.allSettled([...packers.values()].map((p) => p.finalize()))
    throw e
  } finally {
    await pool?.close()
  }
}
