import { throwIfAborted } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import { nodeNameBytes, parseGoTime, serializeNode, serializeTree, type Node } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'

/** Decides which of two nodes of the same name wins a merge: positive when `a` wins. */
export type NodeComparator = (a: Node, b: Node) => number

/** rustic's `last_modified_node`: the node modified last wins (compared by mtime). */
export const lastModifiedNode: NodeComparator = (a, b) => {
  const ta = mtimeNs(a)
  const tb = mtimeNs(b)
  return ta === tb ? 0 : ta > tb ? 1 : -1
}

function mtimeNs(n: Node): bigint {
  try {
    return parseGoTime(n.mtime).unixNs
  } catch {
    return -(2n ** 80n)
  }
}

/** Counts of a merge, for the new snapshot's summary (as rustic counts them). */
export interface MergeCounts {
  filesUnmodified: number
  dirsChanged: number
  dirsUnmodified: number
  totalFilesProcessed: number
  totalBytesProcessed: number
  totalDirsProcessed: number
  totalDirsizeProcessed: number
}

/** What {@link mergeTrees} needs besides the trees. */
export interface MergeTreesContext {
  indexed: IndexedRepository
  /** Which node wins among nodes of the same name. */
  compare: NodeComparator
  /** Stores a new tree blob (skipping one the repository has) under its id. */
  save: (id: Id, bytes: Uint8Array) => Promise<void>
  counts: MergeCounts
  signal?: AbortSignal
}

/**
 * Merges trees into one (rustic's `merge_trees`): the nodes of all trees, and among nodes of the same
 * name the one `compare` ranks highest (on a tie, the one of the later tree); when it is a directory, its
 * subtree is the merge of the subtrees of every directory of that name. Returns the merged tree's id
 * (one of the inputs when nothing changed); new trees go to `save`.
 */
export async function mergeTrees(ctx: MergeTreesContext, treeIds: readonly Id[]): Promise<Id> {
  throwIfAborted(ctx.signal)
  const trees = await Promise.all(treeIds.map((id) => ctx.indexed.getTree(id, { signal: ctx.signal })))
  const groups = new Map<string, Node[]>()
  for (const nodes of trees) {
    for (const node of nodes) {
      const key = Buffer.from(nodeNameBytes(node)).toString('latin1')
      const group = groups.get(key)
      if (group) group.push(node)
      else groups.set(key, [node])
    }
  }
  const merged: Node[] = []
  const newSubtrees = new Map<Node, Id>()
  for (const group of groups.values()) {
    let winner = group[0]!
    for (const node of group.slice(1)) if (ctx.compare(node, winner) >= 0) winner = node
    if (winner.type === 'dir' && winner.subtree) {
      const subtrees = group.flatMap((n) => (n.type === 'dir' && n.subtree ? [n.subtree] : []))
      const subtree = await mergeTrees(ctx, subtrees)
      if (subtree !== winner.subtree) newSubtrees.set(winner, subtree)
    } else if (winner.type !== 'dir') {
      ctx.counts.filesUnmodified++
      ctx.counts.totalFilesProcessed++
      ctx.counts.totalBytesProcessed += winner.size ?? 0
    }
    merged.push(winner)
  }
  // A changed directory keeps its node's exact text but for the subtree id.
  const bytes = serializeTree(merged, (node) => {
    const text = serializeNode(node)
    const subtree = newSubtrees.get(node)
    return subtree === undefined ? text : text.replace(`"subtree":"${node.subtree}"`, `"subtree":"${subtree}"`)
  })
  const id = hashId(bytes)
  if (treeIds.includes(id)) ctx.counts.dirsUnmodified++
  else {
    ctx.counts.dirsChanged++
    await ctx.save(id, bytes)
  }
  ctx.counts.totalDirsProcessed++
  ctx.counts.totalDirsizeProcessed += bytes.length
  return id
}
