import { verifyId, type DecryptBackend } from '../../backend/DecryptBackend.js'
import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { BlobLocation } from '../../index/BlobIndex.js'
import { parseTree, type IndexFile } from '../../repofile/index.js'
import type { TreeReader } from '../walkTrees.js'

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

/**
 * Reads trees at the `trees` locations (from {@link treeLocations}), each checked against its id.
 * The reader throws `BlobNotFound` for a tree no index file names, `IntegrityError` for a tree whose
 * content does not hash to its id, and the backend's error for a tree that cannot be read.
 */
export function treeReader(dbe: DecryptBackend, trees: Map<Id, BlobLocation>): TreeReader {
  return async (id, { signal }) => {
    const loc = trees.get(id)
    if (!loc) {
      throw new RusticError('Repository', `tree ${id} that snapshots need is in no index file: the repository is damaged; nothing was changed. Run check`, {
        code: 'BlobNotFound',
      })
    }
    const what = `tree ${id} in pack ${loc.packId} at offset ${loc.offset}`
    const plain = await dbe.readEncryptedPartial('pack', loc.packId, true, loc.offset, loc.length, loc.uncompressedLength, { signal }, what)
    try {
      verifyId(plain, 'pack', id)
    } catch (e) {
      throw new RusticError('Verification', `tree ${id} in pack ${loc.packId} is corrupted: its content does not hash to its id; nothing was changed. Run check`, {
        code: 'IntegrityError',
        cause: e,
      })
    }
    return parseTree(plain, `tree ${id}`)
  }
}
