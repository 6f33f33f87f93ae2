import { z } from 'zod'
import { RusticError, throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import { compareNames, nodeNameBytes, parseGoTime, type Node } from '../repofile/index.js'
import type { IndexedRepository } from '../repository/IndexedRepository.js'
import type { Control } from '../progress/Control.js'
import { parseOptions } from '../util/parseOptions.js'
import { blobDataLength } from '../blob/blobDataLength.js'

/** One difference between two trees, as restic's `diff` prints it. */
export interface DiffChange {
  /**
   * Path relative to the compared directories, starting with `/`; directories end with `/`.
   */
  path: string
  /**
   * restic's modifier: `+` added, `-` removed, `M` content modified, `T` type changed, `U` metadata
   * changed (only with `metadata`), `?` appended to `M` when nothing but the content changed (bitrot?);
   * `T` can combine with `U`.
   */
  modifier: string
  /** The entry in the first tree (absent when added). */
  left?: Node
  /** The entry in the second tree (absent when removed). */
  right?: Node
}

/** Counts of added or removed items (restic's `DiffStat`). */
export interface DiffItemStats {
  /** Files. */
  files: number
  /** Directories. */
  dirs: number
  /** Other entries (symlinks, devices, ...). */
  others: number
  /** Data blobs only in this side. */
  dataBlobs: number
  /** Tree blobs only in this side. */
  treeBlobs: number
  /** Plaintext bytes of those blobs. */
  bytes: number
}

/** Statistics of a diff (restic's `statistics` message). */
export interface DiffStats {
  /** Files whose content changed. */
  changedFiles: number
  /** What the second tree adds. */
  added: DiffItemStats
  /** What the second tree no longer has. */
  removed: DiffItemStats
}

/** Options of `IndexedRepository.diff`, with defaults. */
export const DiffOptionsSchema = z.object({
  /** Also report entries whose metadata changed (`U`), as `restic diff --metadata`. */
  metadata: z.boolean().default(false),
  /** Receives each change as it is found; when given, {@link DiffResult.changes} stays empty. */
  onChange: z.custom<(change: DiffChange) => void>((v) => typeof v === 'function').optional(),
})

/** Options of `IndexedRepository.diff`; see {@link DiffOptionsSchema}. */
export type DiffOptions = z.input<typeof DiffOptionsSchema>

/** The result of `IndexedRepository.diff`. */
export interface DiffResult {
  /** The changes in tree order (empty when `onChange` was given). */
  changes: DiffChange[]
  /** The statistics. */
  stats: DiffStats
}

const emptyStats = (): DiffItemStats => ({ files: 0, dirs: 0, others: 0, dataBlobs: 0, treeBlobs: 0, bytes: 0 })

function timeNs(s: string): bigint | string {
  try {
    return parseGoTime(s).unixNs
  } catch {
    return s
  }
}

function sameList<T>(a: readonly T[] | null | undefined, b: readonly T[] | null | undefined): boolean {
  const x = a ?? []
  const y = b ?? []
  return x.length === y.length && x.every((v, i) => v === y[i])
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return Buffer.compare(a ?? new Uint8Array(0), b ?? new Uint8Array(0)) === 0
}

/** restic's `Node.Equals`: every stored field equal (times as instants), optionally ignoring the content. */
export function nodesEqual(a: Node, b: Node, ignoreContent = false): boolean {
  const xa = a.extendedAttributes ?? []
  const xb = b.extendedAttributes ?? []
  return (
    sameBytes(nodeNameBytes(a), nodeNameBytes(b)) &&
    a.type === b.type &&
    (a.mode ?? 0) === (b.mode ?? 0) &&
    timeNs(a.mtime) === timeNs(b.mtime) &&
    timeNs(a.atime) === timeNs(b.atime) &&
    timeNs(a.ctime) === timeNs(b.ctime) &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    (a.user ?? '') === (b.user ?? '') &&
    (a.group ?? '') === (b.group ?? '') &&
    (a.inode ?? 0n) === (b.inode ?? 0n) &&
    (a.deviceId ?? 0n) === (b.deviceId ?? 0n) &&
    (a.size ?? 0) === (b.size ?? 0) &&
    (a.links ?? 0) === (b.links ?? 0) &&
    (a.linktarget ?? '') === (b.linktarget ?? '') &&
    sameBytes(a.linktargetRaw, b.linktargetRaw) &&
    (a.device ?? 0n) === (b.device ?? 0n) &&
    (ignoreContent || sameList(a.content, b.content)) &&
    xa.length === xb.length &&
    xa.every((x, i) => x.name === xb[i]!.name && sameBytes(x.value, xb[i]!.value)) &&
    (a.subtree ?? '') === (b.subtree ?? '') &&
    (a.error ?? '') === (b.error ?? '')
  )
}

/**
 * Compares two directories of snapshots (nodes from {@link IndexedRepository.resolveSnapshotPath})
 * the way `restic diff` does: added, removed, modified and type-changed entries (and metadata changes
 * with `metadata`), in tree order, plus counts of items and of blobs only one side has.
 */
export async function diff(
  indexed: IndexedRepository,
  left: Node,
  right: Node,
  options: DiffOptions = {},
  control: Control = {},
): Promise<DiffResult> {
  const opts = parseOptions(DiffOptionsSchema, options, 'diff options')
  for (const [n, side] of [
    [left, 'first'],
    [right, 'second'],
  ] as const) {
    if (n.type !== 'dir' || !n.subtree) {
      throw new RusticError('InvalidInput', `the ${side} path of diff is a ${n.type}, not a directory`, { code: 'NotADirectory' })
    }
  }
  const { signal } = control
  const changes: DiffChange[] = []
  const emit = opts.onChange ?? ((c: DiffChange) => void changes.push(c))
  const stats: DiffStats = { changedFiles: 0, added: emptyStats(), removed: emptyStats() }
  const before = new Set<string>()
  const after = new Set<string>()
  const common = new Set<string>()
  const collected = new Set<Id>()

  const addBlobs = (set: Set<string>, node: Node | undefined): void => {
    if (!node) return
    if (node.type === 'file') for (const id of node.content ?? []) set.add(`d${id}`)
    else if (node.type === 'dir' && node.subtree) set.add(`t${node.subtree}`)
  }
  const count = (s: DiffItemStats, node: Node): void => {
    if (node.type === 'file') s.files++
    else if (node.type === 'dir') s.dirs++
    else s.others++
  }
  const tree = (id: Id): Promise<Node[]> => indexed.getTree(id, { signal })
  const join = (prefix: string, name: string): string => (prefix.endsWith('/') ? prefix + name : `${prefix}/${name}`)

  const printDir = async (modifier: '+' | '-', s: DiffItemStats, blobs: Set<string>, prefix: string, id: Id): Promise<void> => {
    for (const node of await tree(id)) {
      throwIfAborted(signal)
      let name = join(prefix, node.name)
      if (node.type === 'dir') name += '/'
      emit(modifier === '+' ? { path: name, modifier, right: node } : { path: name, modifier, left: node })
      count(s, node)
      addBlobs(blobs, node)
      if (node.type === 'dir' && node.subtree) await printDir(modifier, s, blobs, name, node.subtree)
    }
  }
  const collectDir = async (id: Id): Promise<void> => {
    if (collected.has(id)) return
    collected.add(id)
    for (const node of await tree(id)) {
      throwIfAborted(signal)
      addBlobs(common, node)
      if (node.type === 'dir' && node.subtree) await collectDir(node.subtree)
    }
  }
  const diffTree = async (prefix: string, id1: Id, id2: Id): Promise<void> => {
    const [t1, t2] = await Promise.all([tree(id1), tree(id2)])
    let i = 0
    let j = 0
    while (i < t1.length || j < t2.length) {
      throwIfAborted(signal)
      const cmp =
        i >= t1.length ? 1 : j >= t2.length ? -1 : compareNames(nodeNameBytes(t1[i]!), nodeNameBytes(t2[j]!))
      const n1 = cmp <= 0 ? t1[i++] : undefined
      const n2 = cmp >= 0 ? t2[j++] : undefined
      addBlobs(before, n1)
      addBlobs(after, n2)
      if (n1 && n2) {
        let name = join(prefix, n1.name)
        let mod = ''
        if (n1.type !== n2.type) mod += 'T'
        if (n2.type === 'dir') name += '/'
        if (n1.type === 'file' && n2.type === 'file' && !sameList(n1.content, n2.content)) {
          mod += 'M'
          stats.changedFiles++
          if (nodesEqual(n1, n2, true)) mod += '?'
        } else if (opts.metadata && !nodesEqual(n1, n2)) mod += 'U'
        if (mod !== '') emit({ path: name, modifier: mod, left: n1, right: n2 })
        if (n1.type === 'dir' && n2.type === 'dir' && n1.subtree && n2.subtree) {
          if (n1.subtree === n2.subtree) await collectDir(n1.subtree)
          else await diffTree(name, n1.subtree, n2.subtree)
        }
      } else if (n1) {
        let name = join(prefix, n1.name)
        if (n1.type === 'dir') name += '/'
        emit({ path: name, modifier: '-', left: n1 })
        count(stats.removed, n1)
        if (n1.type === 'dir' && n1.subtree) await printDir('-', stats.removed, before, name, n1.subtree)
      } else if (n2) {
        let name = join(prefix, n2.name)
        if (n2.type === 'dir') name += '/'
        emit({ path: name, modifier: '+', right: n2 })
        count(stats.added, n2)
        if (n2.type === 'dir' && n2.subtree) await printDir('+', stats.added, after, name, n2.subtree)
      }
    }
  }

  before.add(`t${left.subtree!}`)
  after.add(`t${right.subtree!}`)
  await diffTree('/', left.subtree!, right.subtree!)

  const blobSize = (key: string): number => {
    const loc = indexed.index.get(key[0] === 'd' ? 'data' : 'tree', key.slice(1) as Id)
    return loc ? blobDataLength(loc) : 0
  }
  const tally = (from: Set<string>, other: Set<string>, s: DiffItemStats): void => {
    for (const k of from) {
      if (other.has(k) || common.has(k)) continue
      if (k[0] === 'd') s.dataBlobs++
      else s.treeBlobs++
      s.bytes += blobSize(k)
    }
  }
  tally(before, after, stats.removed)
  tally(after, before, stats.added)
  return { changes, stats }
}
