import { streamIndexFiles } from '../../backend/streamRepoFiles.js'
import type { DecryptBackend } from '../../backend/DecryptBackend.js'
import type { Id } from '../../id/Id.js'
import { BlobIndex } from '../../index/BlobIndex.js'
import type { Progress } from '../../progress/Progress.js'
import { packSizeFromBlobs, type BlobType, type IndexBlob, type IndexFile } from '../../repofile/index.js'
import { byOffset } from './byOffset.js'
import type { FindingCollector } from './CheckFinding.js'

/** A pack as the index files describe it. */
export interface IndexedPack {
  id: Id
  /** The type of its first blob (a pack should hold one type). */
  type: BlobType
  /** Its blobs, as the first index file listing it has them. */
  blobs: IndexBlob[]
  /** Its size as the index implies (blobs + header + header length). */
  size: number
  /** The index files listing it. */
  indexFiles: Id[]
  /** Marked for deletion by a first prune phase (rustic's `packs_to_delete`). */
  toDelete: boolean
}

/** The union of all index files as `check` needs it: every pack with its entries, and a blob lookup. */
export class CheckIndex {
  /** Every pack named by an index file. */
  readonly packs = new Map<Id, IndexedPack>()
  /** Blob lookup (first copy of each blob; packs marked for deletion are left out). */
  readonly blobs = new BlobIndex()
  /** Index files that could not be read. */
  readonly damaged: Id[] = []
  /** Index files read. */
  readonly files: Id[] = []
  /** Packs marked for deletion without a time (rustic needs it to finish a prune). */
  readonly undated: Id[] = []
  /** Blobs seen in more than one pack: `type/id` -> the blob and the packs holding it. */
  readonly duplicates = new Map<string, { type: BlobType; id: Id; packs: Id[] }>()

  /** Adds one index file (its packs already in the index are only noted as listed twice). */
  add(indexId: Id, file: IndexFile): void {
    this.files.push(indexId)
    for (const pack of file.packs) this.addPack(indexId, pack, false)
    for (const pack of file.packsToDelete ?? []) {
      if (pack.time === undefined) this.undated.push(pack.id)
      this.addPack(indexId, pack, true)
    }
  }

  private addPack(indexId: Id, pack: { id: Id; blobs: IndexBlob[] }, toDelete: boolean): void {
    const known = this.packs.get(pack.id)
    if (known) {
      if (!known.indexFiles.includes(indexId)) known.indexFiles.push(indexId)
      return
    }
    this.packs.set(pack.id, {
      id: pack.id,
      type: pack.blobs[0]?.type ?? 'data',
      blobs: pack.blobs,
      size: packSizeFromBlobs(pack.blobs),
      indexFiles: [indexId],
      toDelete,
    })
    if (toDelete) return
    this.blobs.addPack(pack.id, pack.blobs, (b) => {
      const k = `${b.type}/${b.id}`
      const dup = this.duplicates.get(k) ?? { type: b.type, id: b.id, packs: [this.blobs.get(b.type, b.id)!.packId] }
      dup.packs.push(pack.id)
      this.duplicates.set(k, dup)
    })
  }
}

/**
 * Reads every index file straight from the repository (`dbe` must not be cached), each checked against
 * its id, and reports the ones that cannot be read, packs listed by several index files, packs mixing
 * tree and data blobs, blobs stored twice and index entries that overlap or leave gaps.
 */
export async function loadCheckIndex(
  dbe: DecryptBackend,
  ids: Id[],
  findings: FindingCollector,
  options: { concurrency: number; signal?: AbortSignal; progress: Progress },
): Promise<CheckIndex> {
  const index = new CheckIndex()
  options.progress.setLength(ids.length)
  const files = streamIndexFiles(dbe, {
    ids,
    concurrency: options.concurrency,
    signal: options.signal,
    onError: (id, err) => {
      index.damaged.push(id)
      findings.add('indexDamaged', `error loading index ${id}: ${(err as Error).message}`, { file: { type: 'index', id } })
      options.progress.inc(1)
    },
  })
  for await (const { id, file } of files) {
    index.add(id, file)
    options.progress.inc(1)
  }
  options.progress.finish()
  reportIndexHints(index, findings)
  return index
}

function reportIndexHints(index: CheckIndex, findings: FindingCollector): void {
  for (const pack of index.packs.values()) {
    const file = { type: 'pack' as const, id: pack.id }
    if (pack.indexFiles.length > 1) {
      findings.add('packInSeveralIndexes', `pack ${pack.id} contained in several indexes: {${pack.indexFiles.join(' ')}}`, { file })
    }
    if (pack.blobs.some((b) => b.type !== pack.type)) {
      findings.add('mixedPack', `pack ${pack.id} contains a mix of tree and data blobs`, { file })
    }
    const sorted = byOffset(pack.blobs)
    let end = 0
    for (const b of sorted) {
      if (b.offset !== end) {
        findings.add('indexOverlap', `pack ${pack.id}: Index for pack contains gaps / overlapping blobs (blob ${b.id} at offset ${b.offset}, expected ${end})`, {
          file,
          blob: { type: b.type, id: b.id },
        })
        break
      }
      end = b.offset + b.length
    }
  }
  for (const id of index.undated) {
    findings.add('indexTimeMissing', `pack ${id}: marked for deletion without a time; run prune to correct this`, { file: { type: 'pack', id } })
  }
  for (const dup of index.duplicates.values()) {
    findings.add('duplicateBlob', `${dup.type} blob ${dup.id} is stored in several packs: ${dup.packs.join(', ')}`, { blob: { type: dup.type, id: dup.id } })
  }
}

