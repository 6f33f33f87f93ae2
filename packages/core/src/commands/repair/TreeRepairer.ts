import { throwIfAborted } from '../../error/RusticError.js'
import { hashId, type Id } from '../../id/Id.js'
import { goQuoteString, parseTree, serializeTree, type Node } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { isDamage } from './isDamage.js'
import { blobDataLength } from '../../blob/blobDataLength.js'

/** One change `repair snapshots` makes to a snapshot's tree. */
export interface RepairChange {
  /** What changed: a file lost missing content, a file's size was corrected, a directory that cannot be read was emptied, or the root cannot be read. */
  kind: 'contentRemoved' | 'sizeFixed' | 'dirEmptied' | 'rootUnreadable'
  /** The path inside the snapshot. */
  path: string
  /** One line for people (restic's wording). */
  message: string
}

/** A rewritten tree: its new id (`undefined` when it cannot be read) and the changes below it. */
export interface RepairedTree {
  id: Id | undefined
  /** Changes with paths relative to the tree (`/name/...`). */
  changes: Array<Omit<RepairChange, 'message'>>
}

/** Stores a tree blob (`repair snapshots` passes the packer; planning passes nothing). */
export type TreeSink = (id: Id, plain: Uint8Array) => Promise<void>

/**
 * Rewrites trees by restic's `repair snapshots` rules: a file keeps only the content blobs that are
 * indexed in a pack that exists, and its size becomes the sum of those blobs; a directory whose tree
 * cannot be read becomes an empty directory. Trees are memoised, so a tree shared by many snapshots is
 * rewritten once.
 */
export class TreeRepairer {
  private readonly memo = new Map<Id, Promise<RepairedTree>>()

  constructor(
    private readonly indexed: IndexedRepository,
    /** The packs that exist in the repository. */
    private readonly packs: ReadonlySet<Id>,
    private readonly sink?: TreeSink,
    private readonly signal?: AbortSignal,
  ) {}

  /** The tree `id` rewritten (memoised). */
  rewrite(id: Id): Promise<RepairedTree> {
    let done = this.memo.get(id)
    if (!done) {
      done = this.rewriteOnce(id)
      this.memo.set(id, done)
    }
    return done
  }

  private async load(id: Id): Promise<Node[] | undefined> {
    const loc = this.indexed.index.get('tree', id)
    if (!loc || !this.packs.has(loc.packId)) return undefined
    try {
      // parsed afresh: the nodes are changed in place, which keeps the exact text of the members left alone
      return parseTree(await this.indexed.getBlob('tree', id, { signal: this.signal }), `tree ${id}`)
    } catch (e) {
      if (isDamage(e)) return undefined
      throw e
    }
  }

  private async rewriteOnce(id: Id): Promise<RepairedTree> {
    throwIfAborted(this.signal)
    const nodes = await this.load(id)
    if (!nodes) return { id: undefined, changes: [] }
    const changes: RepairedTree['changes'] = []
    let changed = false
    for (const node of nodes) {
      const path = `/${node.name}`
      if (node.type === 'file') {
        const before = node.content ?? []
        const content: Id[] = []
        let size = 0
        for (const blob of before) {
          const loc = this.indexed.index.get('data', blob)
          if (!loc || !this.packs.has(loc.packId)) continue
          content.push(blob)
          size += blobDataLength(loc)
        }
        if (content.length !== before.length) changes.push({ kind: 'contentRemoved', path })
        else if (size !== (node.size ?? 0)) changes.push({ kind: 'sizeFixed', path })
        else if (node.content != null) continue
        node.content = content
        node.size = size
        changed = true
      } else if (node.type === 'dir') {
        const sub = node.subtree ? await this.rewrite(node.subtree) : { id: undefined, changes: [] }
        let subId = sub.id
        if (subId === undefined) {
          changes.push({ kind: 'dirEmptied', path })
          subId = await this.store([])
        } else {
          for (const c of sub.changes) changes.push({ kind: c.kind, path: path + c.path })
        }
        if (subId !== node.subtree) {
          node.subtree = subId
          changed = true
        }
      }
    }
    return { id: changed ? await this.store(nodes) : id, changes }
  }

  private async store(nodes: Node[]): Promise<Id> {
    const plain = serializeTree(nodes)
    const id = hashId(plain)
    await this.sink?.(id, plain)
    return id
  }
}

/** restic's line for a change (`file "/a/b": removed missing content`). */
export function repairChangeMessage(change: Omit<RepairChange, 'message'>): string {
  const p = `"${goQuoteString(change.path)}"`
  switch (change.kind) {
    case 'contentRemoved':
      return `file ${p}: removed missing content`
    case 'sizeFixed':
      return `file ${p}: fixed incorrect size`
    case 'dirEmptied':
      return `dir ${p}: replaced with empty directory`
    case 'rootUnreadable':
      return `dir ${p}: not readable`
  }
}
