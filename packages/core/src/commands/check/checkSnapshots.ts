import { streamSnapshotFiles } from '../../backend/streamRepoFiles.js'
import type { DecryptBackend } from '../../backend/DecryptBackend.js'
import { isRusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Progress } from '../../progress/Progress.js'
import { goQuoteString, type SnapshotFile } from '../../repofile/index.js'
import type { NodeLinks } from '../../repofile/index.js'
import { isFilterSet, type SnapshotFilter } from '../../repository/SnapshotFilter.js'
import { drainStack } from '../../util/drainStack.js'
import { selectSnapshots } from '../selectSnapshots.js'
import type { FindingCollector } from './CheckFinding.js'
import type { CheckIndex } from './CheckIndex.js'
import type { TreeLoader } from './TreeLoader.js'

const NULL_ID = '0'.repeat(64)
/** The walk runs at most this long before it lets other work in. */
const WALK_SLICE_MS = 4

/** What the snapshot walk saw. */
export interface SnapshotWalk {
  /** Snapshots walked. */
  snapshots: number
  /** Distinct trees read. */
  trees: number
  /** True if every snapshot was selected, read and walked without a tree failing to load. */
  complete: boolean
  /** Trees the walked snapshots reference. */
  usedTrees: Set<Id>
  /** Data blobs the walked snapshots reference. */
  usedData: Set<Id>
  /** How many of {@link SnapshotWalk.usedData} the index lists. */
  usedDataIndexed: number
}

/** Which snapshots to walk. */
export interface SnapshotSelection {
  /** Ids, id prefixes, `latest` or `latest~N`; empty for all. */
  specs: string[]
  filter?: SnapshotFilter
}

/**
 * Reads the snapshot files straight from the repository (each checked against its id) and walks their
 * trees once each, with restic's checks of every node: a file has a content list whose blobs are all
 * indexed, a directory has a subtree that loads, every node has a name. Trees are loaded `concurrency`
 * at a time.
 */
export async function checkSnapshots(
  dbe: DecryptBackend,
  loader: TreeLoader,
  index: CheckIndex,
  selection: SnapshotSelection,
  findings: FindingCollector,
  options: { concurrency: number; signal?: AbortSignal; progress: Progress },
): Promise<SnapshotWalk> {
  const ids = await dbe.backend.list('snapshot', { signal: options.signal })
  const snaps: SnapshotFile[] = []
  let unreadable = 0
  for await (const s of streamSnapshotFiles(dbe, {
    ids,
    concurrency: options.concurrency,
    signal: options.signal,
    onError: (id, err) => {
      unreadable++
      findings.add('snapshotDamaged', `load <snapshot/${id}>: ${(err as Error).message}`, { file: { type: 'snapshot', id } })
    },
  })) {
    snaps.push(s)
  }
  const all = selection.specs.length === 0 && !isFilterSet(selection.filter)
  const selected = selectSnapshots(snaps, ids, selection.specs, selection.filter)

  const seen = new Set<Id>()
  const walk: SnapshotWalk = { snapshots: selected.length, trees: 0, complete: all && unreadable === 0, usedTrees: seen, usedData: new Set(), usedDataIndexed: 0 }
  const queue: WalkJob[] = []
  // data blobs found missing from the index (each is looked up there once, then reported for every file using it)
  const missingData = new Set<Id>()
  for (const s of selected) {
    if (!seen.has(s.tree)) {
      seen.add(s.tree)
      queue.push({ tree: s.tree, path: '/', snapshot: s.id! })
    }
  }
  options.progress.setLength(queue.length)

  // `concurrency` loaders take trees from the stack (last in, first out: depth first, as trees are packed).
  // Trees of a pack already downloaded load without I/O, so the walk would hold the thread for as long as
  // it runs: it lets other work in (pack reads handing data to the verify workers) every few milliseconds.
  let ranSince = performance.now()
  await drainStack(
    queue,
    async (job, push) => {
      if (performance.now() - ranSince > WALK_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        ranSince = performance.now()
      }
      let nodes: NodeLinks[]
      try {
        nodes = await loader.tree(job.tree, { signal: options.signal })
      } catch (e) {
        if (isRusticError(e, 'Aborted')) throw e
        walk.complete = false
        const about = { blob: { type: 'tree' as const, id: job.tree }, snapshot: job.snapshot, path: job.path }
        if (isRusticError(e, 'BlobNotFound')) findings.add('treeMissing', `tree ${job.tree}: not found in index (at ${job.path})`, about)
        else findings.add('treeDamaged', `tree ${job.tree}: cannot be loaded (at ${job.path}): ${(e as Error).message}`, about)
        options.progress.inc(1)
        return
      }
      walk.trees++
      for (const node of nodes) {
        const sub = checkNode(job, node, index, walk, missingData, findings)
        if (sub && !seen.has(sub.tree)) {
          seen.add(sub.tree)
          push(sub)
          options.progress.setLength(seen.size)
        }
      }
      options.progress.inc(1)
    },
    { concurrency: options.concurrency, signal: options.signal },
  )
  options.progress.finish()
  return walk
}

/** Where a walk is: the tree, its path and the snapshot it was reached from. */
interface WalkJob {
  tree: Id
  path: string
  snapshot: Id
}

/** The path of `node` in the tree of `job`. */
function pathOf(job: WalkJob, node: NodeLinks): string {
  return job.path === '/' ? `/${node.name}` : `${job.path}/${node.name}`
}

/** Where a finding about `node` is. */
function about(job: WalkJob, node: NodeLinks): { snapshot: Id; path: string } {
  return { snapshot: job.snapshot, path: pathOf(job, node) }
}

/** `node`'s name as restic quotes it in a finding. */
function quoted(node: NodeLinks): string {
  return `"${goQuoteString(node.name)}"`
}

/**
 * Checks one node as restic does; returns the subtree to walk for a sound directory. The node's path and
 * quoted name are made only for a finding (most nodes have none).
 */
function checkNode(job: WalkJob, node: NodeLinks, index: CheckIndex, walk: SnapshotWalk, missingData: Set<Id>, findings: FindingCollector): WalkJob | undefined {
  if (node.name === '') findings.add('nodeNameEmpty', `tree ${job.tree}: node with empty name`, about(job, node))
  if (node.type === 'file') {
    const content = node.content
    if (content == null) {
      findings.add('fileContentMissing', `tree ${job.tree}: file ${quoted(node)} has nil blob list`, about(job, node))
      return undefined
    }
    const used = walk.usedData
    for (let i = 0; i < content.length; i++) {
      const id = content[i]!
      if (id === NULL_ID) {
        findings.add('fileBlobNull', `tree ${job.tree}: file ${quoted(node)} blob ${i} has null ID`, about(job, node))
        continue
      }
      if (!used.has(id)) {
        used.add(id)
        if (index.blobs.has('data', id)) walk.usedDataIndexed++
        else missingData.add(id)
      }
      if (missingData.has(id)) {
        findings.add('fileBlobMissing', `tree ${job.tree}: file ${quoted(node)} blob ${id} not found in index`, { ...about(job, node), blob: { type: 'data', id } })
      }
    }
    return undefined
  }
  if (node.type === 'dir') {
    if (!node.subtree) findings.add('dirSubtreeMissing', `tree ${job.tree}: dir node ${quoted(node)} has no subtree`, about(job, node))
    else if (node.subtree === NULL_ID) findings.add('dirSubtreeNull', `tree ${job.tree}: dir node ${quoted(node)} subtree id is null`, about(job, node))
    else return { tree: node.subtree, path: pathOf(job, node), snapshot: job.snapshot }
  }
  return undefined
}
