import pLimit from 'p-limit'
import type { ReadBackend } from '../../backend/Backend.js'
import { fileName } from '../../backend/DecryptBackend.js'
import type { FileType } from '../../backend/FileType.js'
import { throwIfAborted } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import type { FindingCollector } from './CheckFinding.js'
import type { CheckIndex } from './CheckIndex.js'

/** The file types a hot repository holds besides tree packs. */
const HOT_TYPES = ['snapshot', 'index', 'key'] as const

const DAMAGED_KIND = { snapshot: 'snapshotDamaged', index: 'indexDamaged', key: 'keyDamaged' } as const

/**
 * Compares a hot repository with its cold one: both must hold the same snapshot, index and key files with
 * the same sizes, and the cold copies must hash to their ids (`check` reads the hot ones); the hot
 * repository must hold every indexed tree pack with its size, and no data pack.
 * @param coldListed - the cold repository's files by type (id -> size).
 */
export async function checkHotCold(
  hot: ReadBackend,
  cold: ReadBackend,
  coldListed: ReadonlyMap<FileType, ReadonlyMap<Id, number>>,
  index: CheckIndex,
  findings: FindingCollector,
  options: { concurrency: number; signal?: AbortSignal },
): Promise<Map<Id, number>> {
  const limit = pLimit(options.concurrency)
  const coldReads: Array<Promise<void>> = []
  for (const type of HOT_TYPES) {
    const coldFiles = coldListed.get(type) ?? new Map<Id, number>()
    const hotFiles = new Map(await hot.listWithSize(type, { signal: options.signal }))
    for (const [id, size] of coldFiles) {
      const file = { type, id }
      const hotSize = hotFiles.get(id)
      if (hotSize === undefined) findings.add('hotFileMissing', `hot repository: ${fileName(type, id)} is missing`, { file })
      else if (hotSize !== size) findings.add('hotFileMismatch', `hot repository: ${fileName(type, id)} has ${hotSize} bytes, the cold one ${size}`, { file })
      coldReads.push(
        limit(async () => {
          throwIfAborted(options.signal)
          let why: string | undefined
          try {
            const data = await cold.readFull(type, id, { signal: options.signal })
            const actual = hashId(data)
            if (actual !== id) why = `its content hashes to ${actual}`
          } catch (e) {
            if (options.signal?.aborted) throw e
            why = (e as Error).message
          }
          if (why !== undefined) findings.add(DAMAGED_KIND[type], `cold repository: ${fileName(type, id)} is damaged: ${why}`, { file })
        }),
      )
    }
    for (const id of hotFiles.keys()) {
      if (!coldFiles.has(id)) findings.add('coldFileMissing', `hot repository: ${fileName(type, id)} does not exist in the cold repository`, { file: { type, id } })
    }
  }
  try {
    await Promise.all(coldReads)
  } finally {
    limit.clearQueue()
  }

  const hotPacks = new Map(await hot.listWithSize('pack', { signal: options.signal }))
  for (const pack of index.packs.values()) {
    if (pack.type !== 'tree') continue
    const file = { type: 'pack' as const, id: pack.id }
    const size = hotPacks.get(pack.id)
    if (size === undefined) findings.add('hotFileMissing', `hot repository: pack ${pack.id} (tree pack) is missing`, { file })
    else if (size !== pack.size) findings.add('hotFileMismatch', `hot repository: pack ${pack.id}: unexpected file size: got ${size}, expected ${pack.size}`, { file })
  }
  for (const id of hotPacks.keys()) {
    const pack = index.packs.get(id)
    const file = { type: 'pack' as const, id }
    if (!pack) findings.add('packUnreferenced', `hot repository: pack ${id}: not referenced in any index`, { file })
    else if (pack.type !== 'tree') findings.add('hotPackUnexpected', `hot repository: pack ${id} is a data pack, which belongs in the cold repository only`, { file })
  }
  return hotPacks
}
