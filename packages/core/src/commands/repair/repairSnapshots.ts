import { Indexer } from '../../index/Indexer.js'
import { Packer } from '../../blob/Packer.js'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { SnapshotFile } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import type { Control } from '../../progress/Control.js'
import type { RepairSnapshotsPlan } from './planRepairSnapshots.js'
import { TreeRepairer } from './TreeRepairer.js'

/** What `repairSnapshots` did. */
export interface RepairSnapshotsResult {
  /** Repaired snapshots: the damaged one and the new one saved in its place. */
  saved: Array<{ original: Id; id: Id }>
  /** Snapshots removed: damaged originals (with `forget`), those whose root tree cannot be read, and unreadable files named with `forget`. */
  removed: Id[]
}

/**
 * Carries out a {@link RepairSnapshotsPlan}: writes the repaired trees (packs, then an index file), saves
 * each repaired snapshot with the plan's tag and `original` set to the damaged one, then removes what
 * the plan removes (the damaged originals only with `forget`).
 * @throws RusticError `RepositoryChanged` if a snapshot no longer repairs to the planned tree.
 */
export async function repairSnapshots(indexed: IndexedRepository, plan: RepairSnapshotsPlan, control: Control = {}): Promise<RepairSnapshotsResult> {
  const { signal, progress } = indexed.repo.control(control)
  const repo = indexed.repo
  const result: RepairSnapshotsResult = { saved: [], removed: [] }
  const rewrites = plan.snapshots.filter((s) => s.action === 'rewrite')
  if (rewrites.length > 0) {
    const indexer = new Indexer(repo.dbe, { signal })
    const packer = new Packer(repo.dbe, 'tree', indexer, indexed.index, { signal, config: repo.config })
    const packs = new Set((await repo.backend.list('pack', { signal })).values())
    const repairer = new TreeRepairer(indexed, packs, async (id, plain) => void (await packer.add(id, plain)), signal)
    const p = progress('counter', 'writing repaired trees')
    p.setLength(rewrites.length)
    for (const r of rewrites) {
      const tree = await repairer.rewrite(r.snapshot.tree)
      if (tree.id !== r.newTree) {
        throw new RusticError('Repository', `snapshot ${r.snapshot.id} no longer repairs as planned: the repository changed; plan again`, {
          code: 'RepositoryChanged',
        })
      }
      p.inc(1)
    }
    await packer.finalize()
    await indexer.finalize()
    p.finish()
    for (const r of rewrites) {
      throwIfAborted(signal)
      const snap: SnapshotFile = { ...r.snapshot, tree: r.newTree!, original: r.snapshot.id! }
      delete snap.id
      if (!snap.tags.includes(plan.options.tag)) snap.tags = [...snap.tags, plan.options.tag]
      result.saved.push({ original: r.snapshot.id!, id: await repo.saveSnapshot(snap, { signal }) })
    }
  }
  const remove = [
    ...plan.snapshots.filter((s) => s.action === 'remove' || (s.action === 'rewrite' && plan.options.forget)).map((s) => s.snapshot.id!),
    ...plan.unreadable.filter((u) => u.remove).map((u) => u.id),
  ]
  await repo.deleteSnapshots(remove, { force: true }, { signal })
  result.removed.push(...remove)
  return result
}
