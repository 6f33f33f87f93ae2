import type { Id } from '../id/Id.js'
import type { Progress } from '../progress/Progress.js'
import type { Node } from '../repofile/index.js'
import type { IndexedRepository } from '../repository/IndexedRepository.js'
import { drainStack } from '../util/drainStack.js'

/** Reads and parses one tree (`IndexedRepository.getTree`, or prune's reader of trees in any pack). */
export type TreeReader = (id: Id, control: { signal?: AbortSignal }) => Promise<Node[]>

/** Options of {@link walkTrees}. */
export interface WalkTreesOptions {
  /** Trees read at once (default: the repository's `concurrency`). */
  concurrency?: number
  /** Trees already seen: they and everything below them are skipped; every tree read is added. */
  seen?: Set<Id>
  /** Counts the trees read. */
  progress?: Progress
  signal?: AbortSignal
}

/**
 * Reads every tree reachable from `roots` once, several at a time, in no particular order, and hands
 * each to `onTree` (restic's `StreamTrees`). Trees in `seen` are skipped with all they contain.
 * `source` is the repository whose index locates the trees, or a {@link TreeReader} of its own.
 * @throws RusticError `BlobNotFound` or a read error of the first tree that cannot be read.
 */
export async function walkTrees(
  source: IndexedRepository | TreeReader,
  roots: Iterable<Id>,
  onTree: (id: Id, nodes: Node[]) => void,
  options: WalkTreesOptions = {},
): Promise<void> {
  const { readTree, concurrency } =
    typeof source === 'function'
      ? { readTree: source, concurrency: options.concurrency ?? 1 }
      : { readTree: source.getTree.bind(source), concurrency: options.concurrency ?? source.repo.options.concurrency }
  const seen = options.seen ?? new Set<Id>()
  const fresh = (id: Id): boolean => {
    if (seen.has(id)) return false
    seen.add(id)
    return true
  }
  const signal = options.signal
  await drainStack(
    [...roots].filter(fresh),
    async (id, push) => {
      const nodes = await readTree(id, { signal })
      onTree(id, nodes)
      options.progress?.inc(1)
      for (const node of nodes) if (node.type === 'dir' && node.subtree && fresh(node.subtree)) push(node.subtree)
    },
    { concurrency, signal },
  )
}

/** The blobs snapshots use: every tree reachable from their roots and every data blob of their files. */
export interface UsedBlobs {
  trees: Set<Id>
  data: Set<Id>
}

/**
 * The tree and data blobs reachable from `roots` (restic's `FindUsedBlobs`). Pass `used` to add to the
 * blobs of an earlier call (its trees are not read again).
 */
export async function findUsedBlobs(
  source: IndexedRepository | TreeReader,
  roots: Iterable<Id>,
  options: Omit<WalkTreesOptions, 'seen'> = {},
  used: UsedBlobs = { trees: new Set(), data: new Set() },
): Promise<UsedBlobs> {
  await walkTrees(
    source,
    roots,
    (_id, nodes) => {
      for (const node of nodes) if (node.type === 'file') for (const blob of node.content ?? []) used.data.add(blob)
    },
    { ...options, seen: used.trees },
  )
  return used
}
