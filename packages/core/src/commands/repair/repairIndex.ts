import { isNotFound } from '../../backend/BackendError.js'
import { Indexer } from '../../index/Indexer.js'
import { throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import { nowGoTime } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import type { Control } from '../../progress/Control.js'
import { repairIndexChanges, type RepairIndexPlan } from './planRepairIndex.js'

/** What `repairIndex` did. */
export interface RepairIndexResult {
  /** The new index files. */
  written: Id[]
  /** The index files removed (after the new ones were written). */
  removed: Id[]
}

/**
 * Carries out a {@link RepairIndexPlan}: writes the new index files first, then removes the ones they
 * replace, so an interruption leaves an index that still names every pack (some twice at worst).
 */
export async function repairIndex(repo: Repository, plan: RepairIndexPlan, control: Control = {}): Promise<RepairIndexResult> {
  const { signal, progress } = repo.control(control)
  const result: RepairIndexResult = { written: [], removed: [] }
  if (!repairIndexChanges(plan)) return result
  const indexer = new Indexer(repo.dbe, { signal })
  for (const pack of plan.packs) await indexer.add(pack)
  const time = nowGoTime()
  for (const pack of plan.packsToDelete) await indexer.addToDelete(pack.time === undefined ? { ...pack, time } : pack)
  result.written = await indexer.finalize()
  const p = progress('counter', 'removing old index files')
  p.setLength(plan.obsoleteIndexFiles.length)
  for (const id of plan.obsoleteIndexFiles) {
    throwIfAborted(signal)
    try {
      await repo.backend.remove('index', id, true, { signal })
      result.removed.push(id)
    } catch (e) {
      if (!isNotFound(e)) throw e
    }
    p.inc(1)
  }
  p.finish()
  return result
}
