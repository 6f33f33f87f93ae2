import { verifyId, type DecryptBackend } from '../../backend/DecryptBackend.js'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { BlobLocation } from '../../index/BlobIndex.js'
import type { Progress } from '../../progress/Progress.js'
import { parseTree, type IndexFile } from '../../repofile/index.js'
import type { UsedBlobs } from './decidePacks.js'

/**
 * Where every tree blob is, from the index files: packs first, then packs marked for deletion (so that a
 * snapshot whose trees were marked by an earlier prune can still be read, and its packs recovered).
 */
export function treeLocations(indexFiles: Array<{ file: IndexFile }>): Map<Id, BlobLocation> {
  const trees = new Map<Id, BlobLocation>()
  for (const marked of [false, true]) {
    for (const { file } of indexFiles) {
      for (const pack of (marked ? file.packsToDelete : file.packs) ?? []) {
        for (const b of pack.blobs) {
          if (b.type === 'tree' && !trees.has(b.id)) {
            trees.set(b.id, { packId: pack.id, offset: b.offset, length: b.length, uncompressedLength: b.uncompressedLength })
          }
        }
      }
    }
  }
  return trees
}

/** Options of {@link findUsedBlobs}. */
export interface FindUsedBlobsOptions {
  /** Trees read at once. */
  concurrency: number
  signal?: AbortSignal
  /** Counts trees read. */
  progress?: Progress
}

/**
 * Every blob the trees below `roots` need (restic's `FindUsedBlobs`): the trees themselves and the
 * content of every file, each once, with counter 0. Each tree is read once, `concurrency` at a time.
 * @throws RusticError `BlobNotFound` for a tree no index file names; `IntegrityError` for a tree whose
 * content does not hash to its id; the backend's error for a tree that cannot be read.
 */
export async function findUsedBlobs(dbe: DecryptBackend, trees: Map<Id, BlobLocation>, roots: Id[], options: FindUsedBlobsOptions): Promise<UsedBlobs> {
  const used: UsedBlobs = { data: new Map(), tree: new Map() }
  const queue: Id[] = []
  const visit = (id: Id): void => {
    if (used.tree.has(id)) return
    used.tree.set(id, 0)
    queue.push(id)
  }
  for (const r of roots) visit(r)

  const readTree = async (id: Id): Promise<void> => {
    const loc = trees.get(id)
    if (!loc) {
      throw new RusticError('Repository', `tree ${id} that snapshots need is in no index file: the repository is damaged; nothing was changed. Run check`, {
        code: 'BlobNotFound',
      })
    }
    const plain = await dbe.readEncryptedPartial('pack', loc.packId, true, loc.offset, loc.length, loc.uncompressedLength, { signal: options.signal })
    try {
      verifyId(plain, 'pack', id)
    } catch (e) {
      throw new RusticError('Verification', `tree ${id} in pack ${loc.packId} is corrupted: its content does not hash to its id; nothing was changed. Run check`, {
        code: 'IntegrityError',
        cause: e,
      })
    }
    for (const node of parseTree(plain, `tree ${id}`)) {
      if (node.type === 'file') for (const c of node.content ?? []) used.data.set(c, 0)
      else if (node.type === 'dir' && node.subtree) visit(node.subtree)
    }
    options.progress?.inc(1)
  }

  await new Promise<void>((resolve, reject) => {
    let active = 0
    let failed = false
    const pump = (): void => {
      if (failed) return
      try {
        throwIfAborted(options.signal)
      } catch (e) {
        failed = true
        return reject(e)
      }
      while (active < options.concurrency && queue.length > 0) {
        const id = queue.pop()!
        active++
        readTree(id).then(
          () => {
            active--
            pump()
          },
          (e: unknown) => {
            failed = true
            reject(e)
          },
        )
      }
      if (active === 0 && queue.length === 0) resolve()
    }
    pump()
  })
  return used
}
