import { streamIndexFiles } from '../../backend/streamRepoFiles.js'
import pLimit from 'p-limit'
import { z } from 'zod'
import { readPackHeader } from '../../blob/readPackHeader.js'
import { isRusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import { packSizeFromBlobs, type IndexFile, type IndexPack } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import type { Control } from '../../progress/Control.js'
import { parseOptions } from '../../util/parseOptions.js'
import { isDamage } from './isDamage.js'

/** Options of `repair index` (restic's `repair index` / `rebuild-index`). */
export const RepairIndexOptionsSchema = z.object({
  /** Read the header of every pack and build the index from them alone, ignoring the index files. */
  readAllPacks: z.boolean().default(false),
})

/** Options of `repair index`; see {@link RepairIndexOptionsSchema}. */
export type RepairIndexOptions = z.input<typeof RepairIndexOptionsSchema>

/** A pack whose header could not be read: it is left out of the new index. */
export interface UnreadablePack {
  id: Id
  /** Why. */
  reason: string
}

/** What `repair index` will do (from {@link planRepairIndex}); carry it out with `repairIndex`. */
export interface RepairIndexPlan {
  /** Index files that will be removed once the new ones are written. */
  obsoleteIndexFiles: Id[]
  /** Index files among them that could not be read (and why). */
  invalidIndexFiles: Array<{ id: Id; reason: string }>
  /** Packs no index named, now indexed from their header. */
  added: Id[]
  /** Packs indexed with the wrong size (or, with `readAllPacks`, every pack), indexed again from their header. */
  reindexed: Array<{ id: Id; size: number; indexedSize?: number }>
  /** Packs the index named that do not exist. */
  removed: Id[]
  /** Packs whose header could not be read: left unindexed. */
  unreadable: UnreadablePack[]
  /** The packs of the new index files. */
  packs: IndexPack[]
  /** Packs marked for deletion (rustic's two-phase prune) that the new index files keep marked. */
  packsToDelete: IndexPack[]
}

/** True if the plan changes the repository. */
export function repairIndexChanges(plan: RepairIndexPlan): boolean {
  return plan.obsoleteIndexFiles.length > 0 || plan.packs.length > 0 || plan.packsToDelete.length > 0
}

/**
 * Works out how to rebuild the index from the pack headers, without writing anything: index files are
 * read (one that cannot be read is dropped); a pack named by no index file, or indexed with a size other
 * than its own, has its header read; a pack the index names that does not exist is dropped, as is the
 * second listing of a pack indexed twice. Index files that change are rewritten whole; the others stay.
 * With `readAllPacks` every pack's header is read and every index file replaced.
 */
export async function planRepairIndex(repo: Repository, options: RepairIndexOptions = {}, control: Control = {}): Promise<RepairIndexPlan> {
  const opts = parseOptions(RepairIndexOptionsSchema, options, 'repair index options')
  const { signal, progress } = repo.control(control)
  const concurrency = repo.options.concurrency
  const plan: RepairIndexPlan = {
    obsoleteIndexFiles: [],
    invalidIndexFiles: [],
    added: [],
    reindexed: [],
    removed: [],
    unreadable: [],
    packs: [],
    packsToDelete: [],
  }
  const spinner = progress('spinner', 'listing packs')
  const listed = new Map(await repo.backend.listWithSize('pack', { signal }))
  spinner.finish()
  const indexIds = await repo.backend.list('index', { signal })
  const toRead = new Map<Id, { size: number; indexedSize?: number }>()
  const seen = new Set<Id>()

  if (opts.readAllPacks) {
    plan.obsoleteIndexFiles.push(...indexIds)
    for (const [id, size] of listed) toRead.set(id, { size })
  } else {
    const p = progress('counter', 'reading index')
    p.setLength(indexIds.length)
    let failure: unknown
    const files = streamIndexFiles(repo.dbe, {
      ids: indexIds,
      concurrency,
      signal,
      onError: (id, e) => {
        p.inc(1)
        if (!isDamage(e)) failure ??= e
        const reason = (e as Error).message
        plan.invalidIndexFiles.push({ id, reason })
        plan.obsoleteIndexFiles.push(id)
      },
    })
    for await (const { id, file } of files) {
      p.inc(1)
      if (sortIndexFile(file, listed, seen, toRead, plan)) plan.obsoleteIndexFiles.push(id)
    }
    p.finish()
    if (failure !== undefined) throw failure
    for (const [id, size] of listed) if (!seen.has(id) && !toRead.has(id)) toRead.set(id, { size })
  }
  for (const [id, t] of toRead) {
    if (t.indexedSize === undefined && !opts.readAllPacks) plan.added.push(id)
    else plan.reindexed.push({ id, size: t.size, ...(t.indexedSize !== undefined ? { indexedSize: t.indexedSize } : {}) })
  }

  await repo.warmUpPacks([...toRead.keys()], { signal })
  const p = progress('counter', 'reading pack headers')
  p.setLength(toRead.size)
  const limit = pLimit(concurrency)
  const read = await Promise.all(
    [...toRead].map(([id, { size }]) =>
      limit(async (): Promise<IndexPack | undefined> => {
        throwIfAborted(signal)
        try {
          return { id, blobs: (await readPackHeader(repo.dbe, id, size, signal)).map((b) => ({ ...b })) }
        } catch (e) {
          if (!isDamage(e) && !isRusticError(e, 'Cryptography')) throw e
          plan.unreadable.push({ id, reason: (e as Error).message })
          return undefined
        } finally {
          p.inc(1)
        }
      }),
    ),
  ).finally(() => limit.clearQueue())
  p.finish()
  for (const pack of read) if (pack) plan.packs.push(pack)
  return plan
}

/**
 * Sorts the packs of one index file into `plan` and `toRead`; true if the file must be rewritten (then
 * its sound packs go into the plan's new index).
 */
function sortIndexFile(
  file: IndexFile,
  listed: ReadonlyMap<Id, number>,
  seen: Set<Id>,
  toRead: Map<Id, { size: number; indexedSize?: number }>,
  plan: RepairIndexPlan,
): boolean {
  const keep: IndexPack[] = []
  const keepToDelete: IndexPack[] = []
  let changed = false
  const sort = (pack: IndexPack, toDelete: boolean): void => {
    const size = listed.get(pack.id)
    if (seen.has(pack.id)) {
      changed = true
      return
    }
    seen.add(pack.id)
    if (size === undefined) {
      plan.removed.push(pack.id)
      changed = true
      return
    }
    const indexedSize = packSizeFromBlobs(pack.blobs)
    if (indexedSize !== size) {
      toRead.set(pack.id, { size, indexedSize })
      changed = true
      return
    }
    ;(toDelete ? keepToDelete : keep).push(pack)
  }
  for (const pack of file.packs) sort(pack, false)
  for (const pack of file.packsToDelete ?? []) sort(pack, true)
  if (changed) {
    plan.packs.push(...keep)
    plan.packsToDelete.push(...keepToDelete)
  }
  return changed
}
