import type { Id } from '../../id/Id.js'
import type { FindingCollector } from './CheckFinding.js'
import type { CheckIndex } from './CheckIndex.js'

/**
 * Compares the packs in the repository (`listed`: id and size) with the index: a pack the index names
 * must exist with the size its entries imply; a pack no index names is noted (an interrupted or parallel
 * backup leaves such packs; `repair index` adds them, `prune` removes them).
 */
export function checkPackFiles(index: CheckIndex, listed: ReadonlyMap<Id, number>, findings: FindingCollector): void {
  for (const pack of index.packs.values()) {
    const file = { type: 'pack' as const, id: pack.id }
    const size = listed.get(pack.id)
    if (size === undefined) findings.add('packMissing', `pack ${pack.id}: does not exist`, { file })
    else if (size !== pack.size) findings.add('packSizeMismatch', `pack ${pack.id}: unexpected file size: got ${size}, expected ${pack.size}`, { file })
  }
  for (const id of listed.keys()) {
    if (!index.packs.has(id)) findings.add('packUnreferenced', `pack ${id}: not referenced in any index`, { file: { type: 'pack', id } })
  }
}
