import { throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { Progress } from '../progress/Progress.js'
import type { Node } from '../repofile/index.js'
import type { IndexedRepository } from '../repository/IndexedRepository.js'

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
 * @throws RusticError `BlobNotFound` or a read error of the first tree that cannot be read.
 */
export async function walkTrees(
  indexed: IndexedRepository,
  roots: Iterable<Id>,
  onTree: (id: Id, nodes: Node[]) => void,
  options: WalkTreesOptions = {},
): Promise<void> {
  const seen = options.seen ?? new Set<Id>()
  const todo: Id[] = []
  const push = (id: Id): void => {
    if (seen.has(id)) return
    seen.add(id)
    todo.push(id)
  }
  for (const id of roots) push(id)
  const concurrency = Math.max(1, options.concurrency ?? indexed.repo.options.concurrency)
  let running = 0
  let failed: { error: unknown } | undefined
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      if (failed) {
        if (running === 0) reject(failed.error)
        return
      }
      while (running < concurrency && todo.length > 0) {
        const id = todo.pop()!
        running++
        void (async () => {
          throwIfAborted(options.signal)
          const nodes = await indexed.getTree(id, { signal: options.signal })
          onTree(id, nodes)
          options.progress?.inc(1)
          for (const node of nodes) if (node.type === 'dir' && node.subtree) push(node.subtree)
        })().then(
          () => {
            running--
            pump()
          },
          (error: unknown) => {
            running--
            failed ??= { error }
            pump()
          },
        )
      }
      if (running === 0 && todo.length === 0) resolve()
    }
    pump()
  })
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
  indexed: IndexedRepository,
  roots: Iterable<Id>,
  options: Omit<WalkTreesOptions, 'seen'> = {},
  used: UsedBlobs = { trees: new Set(), data: new Set() },
): Promise<UsedBlobs> {
  await walkTrees(
    indexed,
    roots,
    (_id, nodes) => {
      for (const node of nodes) if (node.type === 'file') for (const blob of node.content ?? []) used.data.add(blob)
    },
    { ...options, seen: used.trees },
  )
  return used
}
