import { fileName } from '../../backend/DecryptBackend.js'
import { CIPHERTEXT_OVERHEAD } from '../../crypto/Key.js'
import { isRusticError, RusticError } from '../../error/RusticError.js'
import type { Progress } from '../../progress/Progress.js'
import { PACK_HEADER_LENGTH_SIZE, parseSnapshot } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { walkTrees } from '../walkTrees.js'

/** Problems listed in the error before "and N more". */
const SHOWN = 3

/**
 * What restic's `migrate upgrade_repo_v2` makes sure of before it upgrades (it runs `check` first): the
 * index files decode, every indexed pack exists and is large enough for its blobs and header, every
 * snapshot decodes, and every tree of every snapshot decodes and has all its blobs indexed. Pack
 * contents are not read.
 * @throws RusticError `UpgradeCheckFailed` naming the first problems found.
 */
export async function checkBeforeUpgrade(repo: Repository, progress: Progress, signal?: AbortSignal): Promise<void> {
  const problems: string[] = []
  let count = 0
  const problem = (text: string): void => {
    if (count++ < SHOWN) problems.push(text)
  }
  const indexed = await repo.toIndexed({ signal }).catch((e: unknown) => {
    throw failed([`the index cannot be read: ${(e as Error).message}`], 1)
  })
  const sizes = new Map(await repo.backend.listWithSize('pack', { signal }))
  for (const packId of indexed.index.packs().keys()) {
    const size = sizes.get(packId)
    const min = (indexed.index.packExtent(packId) ?? 0) + CIPHERTEXT_OVERHEAD + PACK_HEADER_LENGTH_SIZE
    if (size === undefined) problem(`pack ${packId} is in the index but missing`)
    else if (size < min) problem(`pack ${packId} has ${size} bytes, too few for the blobs the index places in it`)
  }
  const roots = []
  for (const id of await repo.snapshotIds({ signal })) {
    try {
      roots.push(parseSnapshot(await repo.dbe.readEncryptedFull('snapshot', id, { signal }), fileName('snapshot', id), id).tree)
    } catch (e) {
      if (isRusticError(e, 'Aborted')) throw e
      problem(`snapshot ${id} cannot be read: ${(e as Error).message}`)
    }
  }
  progress.setLength(0)
  try {
    await walkTrees(
      indexed,
      roots,
      (id, nodes) => {
        for (const node of nodes) {
          if (node.type === 'file') {
            for (const blob of node.content ?? []) if (!indexed.index.has('data', blob)) problem(`data blob ${blob} of tree ${id} is not in the index`)
          } else if (node.type === 'dir' && !node.subtree) problem(`directory ${node.name} in tree ${id} has no subtree`)
        }
      },
      { progress, signal },
    )
  } catch (e) {
    if (isRusticError(e, 'Aborted')) throw e
    problem(`a tree cannot be read: ${(e as Error).message}`)
  }
  if (count > 0) throw failed(problems, count)
}

function failed(problems: string[], count: number): RusticError {
  const more = count > problems.length ? `, and ${count - problems.length} more` : ''
  return new RusticError(
    'Repository',
    `the repository was not upgraded: its check found problems (${problems.join('; ')}${more}); run check and repair it first`,
    { code: 'UpgradeCheckFailed' },
  )
}
