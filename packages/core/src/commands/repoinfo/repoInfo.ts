import { streamIndexFiles } from '../../backend/streamRepoFiles.js'
import { z } from 'zod'
import type { ReadBackend } from '../../backend/Backend.js'
import { ALL_FILE_TYPES, type FileType } from '../../backend/FileType.js'
import { CIPHERTEXT_OVERHEAD } from '../../crypto/Key.js'
import { throwIfAborted } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import { PACK_HEADER_LENGTH_SIZE, packHeaderEntrySize, type BlobType, type IndexPack } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { parseOptions } from '../../util/parseOptions.js'
import { backendLayers } from '../check/backendLayers.js'
import { findUsedBlobs } from '../walkTrees.js'
import { blobDataLength } from '../../blob/blobDataLength.js'

/** Options of {@link Repository.repoInfo}: which parts to collect. */
export const RepoInfoOptionsSchema = z.object({
  /** Count and size the files of each type (lists the repository; rustic's `--only-files` part). */
  files: z.boolean().default(true),
  /** Count and size blobs and packs from the index files (rustic's `--only-index` part). */
  index: z.boolean().default(true),
  /** Also find the blobs no snapshot uses (loads the index and reads every snapshot's trees). */
  unused: z.boolean().default(true),
})

/** Options of {@link Repository.repoInfo}; see {@link RepoInfoOptionsSchema}. */
export type RepoInfoOptions = z.input<typeof RepoInfoOptionsSchema>

/** Files of one type: how many, and their bytes. */
export interface RepoFileInfo {
  type: FileType
  count: number
  size: number
}

/** Blobs of one type: how many, their stored bytes (compressed, encrypted) and their plaintext bytes. */
export interface BlobInfo {
  type: BlobType
  count: number
  size: number
  dataSize: number
}

/** Packs of one type: how many, their total, smallest and largest size (as the index describes them). */
export interface PackInfo {
  type: BlobType
  count: number
  size: number
  minSize?: number
  maxSize?: number
}

/** What {@link Repository.repoInfo} found (rustic's `repoinfo`, plus unused blobs and compression). */
export interface RepoInfo {
  /** Files by type, in the repository and (hot/cold) in its hot part. */
  files?: { repo: RepoFileInfo[]; repoHot?: RepoFileInfo[] }
  /** What the index files list. */
  index?: {
    /** Blob entries by type (a blob listed twice counts twice). */
    blobs: BlobInfo[]
    /** Blobs in packs marked for deletion (rustic's two-phase prune). */
    blobsDelete: BlobInfo[]
    packs: PackInfo[]
    packsDelete: PackInfo[]
    /** Plaintext bytes per stored byte over all listed blobs (1 without compression). */
    compressionRatio: number
  }
  /** Indexed blobs no snapshot uses (what a prune could free), by type. */
  unused?: BlobInfo[]
}

const BLOB_TYPES: readonly BlobType[] = ['tree', 'data']

/**
 * Counts and sizes of a repository's files, blobs and packs (rustic's `repoinfo`), the compression ratio,
 * and the blobs no snapshot uses. Takes a shared lock.
 * @throws RusticError `BlobNotFound` (with `unused`) when a snapshot needs a blob the index lacks; `Aborted`.
 */
export async function repoInfo(repo: Repository, options: RepoInfoOptions = {}, control: Control = {}): Promise<RepoInfo> {
  const o = parseOptions(RepoInfoOptionsSchema, options, 'repoinfo options')
  const { progress } = repo.control(control)
  return repo.withLock('shared', async ({ signal }) => {
    const info: RepoInfo = {}
    if (o.files) {
      const spinner = progress('spinner', 'scanning files')
      const layers = backendLayers(repo.backend)
      info.files = { repo: await fileInfos(layers.packs, signal) }
      if (layers.hot) info.files.repoHot = await fileInfos(layers.hot, signal)
      spinner.finish()
    }
    if (o.index) {
      const blobs = emptyBlobInfos()
      const blobsDelete = emptyBlobInfos()
      const packs = emptyPackInfos()
      const packsDelete = emptyPackInfos()
      const ids = await repo.backend.list('index', { signal })
      const p = progress('counter', 'scanning index')
      p.setLength(ids.length)
      for await (const { file } of streamIndexFiles(repo.dbe, {
        signal,
        ids,
        concurrency: repo.options.concurrency,
      })) {
        for (const pack of file.packs) addPack(pack, packs, blobs)
        for (const pack of file.packsToDelete ?? []) addPack(pack, packsDelete, blobsDelete)
        p.inc(1)
      }
      p.finish()
      const size = blobs.reduce((n, b) => n + b.size, 0)
      const dataSize = blobs.reduce((n, b) => n + b.dataSize, 0)
      info.index = { blobs, blobsDelete, packs, packsDelete, compressionRatio: size === 0 ? 1 : dataSize / size }
    }
    if (o.unused) {
      const indexed = await repo.toIndexed({ signal })
      const snaps = await repo.getSnapshots({}, { signal })
      const p = progress('counter', 'reading trees')
      const used = await findUsedBlobs(indexed, snaps.map((s) => s.tree), { progress: p, signal })
      p.finish()
      info.unused = emptyBlobInfos()
      for (const b of info.unused) {
        const usedIds = b.type === 'tree' ? used.trees : used.data
        for (const [id, loc] of indexed.index.entries(b.type)) {
          if (usedIds.has(id)) continue
          b.count++
          b.size += loc.length
          b.dataSize += blobDataLength(loc)
        }
      }
      throwIfAborted(signal)
    }
    return info
  }, control)
}

async function fileInfos(backend: ReadBackend, signal: AbortSignal | undefined): Promise<RepoFileInfo[]> {
  const out: RepoFileInfo[] = []
  for (const type of ALL_FILE_TYPES) {
    const list = await backend.listWithSize(type, { signal })
    out.push({ type, count: list.length, size: list.reduce((n, [, s]) => n + s, 0) })
  }
  return out
}

function emptyBlobInfos(): BlobInfo[] {
  return BLOB_TYPES.map((type) => ({ type, count: 0, size: 0, dataSize: 0 }))
}

function emptyPackInfos(): PackInfo[] {
  return BLOB_TYPES.map((type) => ({ type, count: 0, size: 0 }))
}

/** Adds a pack (its size as its header and blobs make it) and its blobs. */
function addPack(pack: IndexPack, packs: PackInfo[], blobs: BlobInfo[]): void {
  const type = pack.blobs[0]?.type ?? 'data'
  let size = PACK_HEADER_LENGTH_SIZE + CIPHERTEXT_OVERHEAD
  for (const b of pack.blobs) {
    size += b.length + packHeaderEntrySize(b)
    const info = blobs.find((x) => x.type === b.type)!
    info.count++
    info.size += b.length
    info.dataSize += blobDataLength(b)
  }
  const info = packs.find((x) => x.type === type)!
  info.count++
  info.size += size
  info.minSize = Math.min(info.minSize ?? size, size)
  info.maxSize = Math.max(info.maxSize ?? size, size)
}
