import { goTimeUnixParts, NODE_TYPES, type ExtendedAttribute, type Node, type NodeType } from '../../repofile/index.js'
import { joinFsName, type FsPath } from './fsPath.js'
import { restoreTimeNs } from './nodeTimes.js'
import type { PlanAction, PlanEntry } from './RestorePlan.js'
import { grow } from '../../util/growArray.js'

const ACTIONS: readonly PlanAction[] = ['create', 'modify', 'unchanged', 'verified', 'kept']
const TYPE_CODE = new Map(NODE_TYPES.map((t, i) => [t, i]))
const ACTION_CODE = new Map(ACTIONS.map((a, i) => [a, i]))

/** Flags by entry. */
const RAW_PATH = 1 // this name or one of its parents' is not valid UTF-8: the path on disk is a Buffer
const HAS_MODE = 2
const HAS_MTIME = 4
const HAS_ATIME = 8

/** Unpaired UTF-16 surrogates (a name holding one does not survive UTF-8 and back). */
const LONE_SURROGATE = /[\ud800-\udfff]/

/** Directory paths remembered for building their children's paths (cleared when full). */
const DIR_CACHE = 4096

/** The metadata restore sets on an entry: the snapshot node's mode, owner and times, without the rest of it. */
export interface EntryMeta {
  /** Go file mode (`undefined`: the snapshot has none). */
  mode?: number
  uid: number
  gid: number
  user?: string
  group?: string
  /** Modification time to set (see `restoreTimeNs`), `undefined` when the node has none. */
  mtimeNs?: bigint
  /** Access time to set, likewise. */
  atimeNs?: bigint
  extendedAttributes?: ExtendedAttribute[]
}

/** The {@link EntryMeta} of a node. */
export function entryMeta(n: Node): EntryMeta {
  return {
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    user: n.user,
    group: n.group,
    mtimeNs: restoreTimeNs(n.mtime),
    atimeNs: restoreTimeNs(n.atime),
    extendedAttributes: n.extendedAttributes,
  }
}

/** The time restore sets for Unix seconds `s` and nanoseconds `ns`: 64-bit nanoseconds, wrapped as Go's `UnixNano()` (see `restoreTimeNs`). */
function unixNs(s: number, ns: number): bigint {
  return BigInt.asIntN(64, BigInt(s) * 1_000_000_000n + BigInt(ns))
}

/**
 * The entries of a restore plan, parents before children (tree order), held compactly: a few typed arrays
 * by entry (parent, name bytes, type, action, hard-link and file index, mode, owner, times) instead of an
 * object, a path and the snapshot's node each, so that a plan of millions of files takes tens of bytes per
 * entry. Paths are built from the parents when asked for; {@link PlanEntries.at} makes a {@link PlanEntry}.
 */
export class PlanEntries implements Iterable<PlanEntry> {
  #n = 0
  #cap = 0
  #parent = new Int32Array(0)
  /** Start of each name in #names; entry i's name ends where entry i+1's starts (or at #namesEnd). */
  #nameStart = new Uint32Array(0)
  #names = new Uint8Array(0)
  #namesBuf = Buffer.alloc(0)
  #namesEnd = 0
  #flags = new Uint8Array(0)
  #type = new Uint8Array(0)
  #action = new Uint8Array(0)
  #linkTo = new Int32Array(0)
  #file = new Int32Array(0)
  #mode = new Float64Array(0)
  #uid = new Float64Array(0)
  #gid = new Float64Array(0)
  #user = new Uint32Array(0)
  #group = new Uint32Array(0)
  #mtime = new BigInt64Array(0)
  #atime = new BigInt64Array(0)
  /** The last time string read and its time (a node's times are often the same string), undefined if unreadable. */
  #lastTime = ''
  #lastNs: bigint | undefined = undefined
  readonly #parts = new Float64Array(2)
  /** Owner and group names (index 0: none). */
  readonly #ownerNames: string[] = ['']
  readonly #ownerIndex = new Map<string, number>()
  /** Display names of entries whose name is not valid UTF-8. */
  readonly #displayNames = new Map<number, string>()
  /** Nodes kept whole: symlinks, devices, fifos (their targets and device numbers). */
  readonly #nodes = new Map<number, Node>()
  readonly #xattrs = new Map<number, ExtendedAttribute[]>()
  /** Entries whose path is not below the base: the single entry of a non-directory restore. */
  readonly #paths = new Map<number, { path: string; fsPath: FsPath }>()
  readonly #dirCache = new Map<number, FsPath>()

  /**
   * @internal Made by `planRestore`.
   * @param base - the directory the entries' paths are relative to (the plan's target).
   */
  constructor(readonly base: string) {}

  /** Number of entries. */
  get length(): number {
    return this.#n
  }

  #reserve(n: number): void {
    if (n <= this.#cap) return
    const cap = Math.max(n, this.#cap * 2, 1024)
    this.#parent = grow(this.#parent, cap)
    this.#nameStart = grow(this.#nameStart, cap)
    this.#flags = grow(this.#flags, cap)
    this.#type = grow(this.#type, cap)
    this.#action = grow(this.#action, cap)
    this.#linkTo = grow(this.#linkTo, cap)
    this.#file = grow(this.#file, cap)
    this.#mode = grow(this.#mode, cap)
    this.#uid = grow(this.#uid, cap)
    this.#gid = grow(this.#gid, cap)
    this.#user = grow(this.#user, cap)
    this.#group = grow(this.#group, cap)
    this.#mtime = grow(this.#mtime, cap)
    this.#atime = grow(this.#atime, cap)
    this.#cap = cap
  }

  #owner(name: string | undefined): number {
    if (!name) return 0
    let i = this.#ownerIndex.get(name)
    if (i === undefined) {
      i = this.#ownerNames.length
      this.#ownerNames.push(name)
      this.#ownerIndex.set(name, i)
    }
    return i
  }

  /**
   * @internal Adds node `n` below entry `parent` (-1: directly in the base) with `action`; returns its index.
   * `at` gives the path and on-disk path of an entry that is not `base/name` (a single entry restored as the target path).
   */
  add(parent: number, n: Node, action: PlanAction, at?: { path: string; fsPath: FsPath }): number {
    const i = this.#n
    this.#reserve(i + 1)
    this.#nameStart[i] = this.#namesEnd
    let raw: boolean
    if (n.nameRaw !== undefined) {
      this.#names = grow(this.#names, this.#namesEnd + n.nameRaw.length)
      this.#namesBuf = Buffer.from(this.#names.buffer, this.#names.byteOffset, this.#names.length)
      this.#names.set(n.nameRaw, this.#namesEnd)
      this.#namesEnd += n.nameRaw.length
      raw = true
    } else {
      // UTF-8 straight into the names (at most 3 bytes per UTF-16 unit), through a Buffer view kept with them
      const need = this.#namesEnd + n.name.length * 3
      if (need > this.#names.length) {
        this.#names = grow(this.#names, need)
        this.#namesBuf = Buffer.from(this.#names.buffer, this.#names.byteOffset, this.#names.length)
      }
      const written = this.#namesBuf.write(n.name, this.#namesEnd)
      this.#namesEnd += written
      raw = written !== n.name.length && LONE_SURROGATE.test(n.name)
    }
    if (raw) this.#displayNames.set(i, n.name)
    const mtime = this.#time(n.mtime)
    const hasMtime = mtime !== undefined
    if (hasMtime) this.#mtime[i] = mtime
    const atime = this.#time(n.atime)
    const hasAtime = atime !== undefined
    if (hasAtime) this.#atime[i] = atime
    this.#parent[i] = parent
    this.#flags[i] =
      (raw || (parent >= 0 && (this.#flags[parent]! & RAW_PATH) !== 0) ? RAW_PATH : 0) |
      (n.mode !== undefined ? HAS_MODE : 0) |
      (hasMtime ? HAS_MTIME : 0) |
      (hasAtime ? HAS_ATIME : 0)
    this.#type[i] = TYPE_CODE.get(n.type) ?? 0
    this.#action[i] = ACTION_CODE.get(action)!
    this.#linkTo[i] = -1
    this.#file[i] = -1
    this.#mode[i] = n.mode ?? 0
    this.#uid[i] = n.uid
    this.#gid[i] = n.gid
    this.#user[i] = this.#owner(n.user)
    this.#group[i] = this.#owner(n.group)
    if (n.type !== 'file' && n.type !== 'dir') this.#nodes.set(i, n)
    if (n.extendedAttributes !== undefined && n.extendedAttributes.length > 0) this.#xattrs.set(i, n.extendedAttributes)
    if (at) this.#paths.set(i, at)
    this.#n = i + 1
    return i
  }

  /** Node time `t` as restore sets it (`restoreTimeNs`, with fewer temporary objects); undefined if it has none or it cannot be read. */
  #time(t: string | undefined): bigint | undefined {
    if (!t) return undefined
    if (t !== this.#lastTime) {
      this.#lastTime = t
      this.#lastNs = goTimeUnixParts(t, this.#parts) ? unixNs(this.#parts[0]!, this.#parts[1]!) : undefined
    }
    return this.#lastNs
  }

  /** @internal Drops the entries from `n` on (a directory that turned out to hold nothing selected). */
  truncate(n: number): void {
    if (n >= this.#n) return
    this.#namesEnd = this.#nameStart[n]!
    this.#n = n
    for (const m of [this.#displayNames, this.#nodes, this.#xattrs, this.#paths, this.#dirCache]) {
      for (const k of m.keys()) if (k >= n) m.delete(k)
    }
  }

  /** The entry's node type. */
  type(i: number): NodeType {
    return NODE_TYPES[this.#type[i]!]!
  }

  /** What restore does with the entry. */
  action(i: number): PlanAction {
    return ACTIONS[this.#action[i]!]!
  }

  /** @internal Sets the entry's action (planning). */
  setAction(i: number, action: PlanAction): void {
    this.#action[i] = ACTION_CODE.get(action)!
  }

  /** For a hard link to an earlier file of the plan: that file's entry, else -1. */
  linkTo(i: number): number {
    return this.#linkTo[i]!
  }

  /** @internal Makes the entry a hard link to entry `to` (planning). */
  setLinkTo(i: number, to: number): void {
    this.#linkTo[i] = to
  }

  /** The entry's index in the plan's `files`, else -1. */
  file(i: number): number {
    return this.#file[i]!
  }

  /** @internal Sets the entry's file index (planning). */
  setFile(i: number, file: number): void {
    this.#file[i] = file
  }

  /** The entry's parent entry (-1: in the base directory). */
  parent(i: number): number {
    return this.#parent[i]!
  }

  /** @internal The snapshot node of a symlink, device or fifo entry. */
  node(i: number): Node | undefined {
    return this.#nodes.get(i)
  }

  /** @internal The metadata restore sets on the entry. */
  meta(i: number): EntryMeta {
    const f = this.#flags[i]!
    return {
      mode: f & HAS_MODE ? this.#mode[i] : undefined,
      uid: this.#uid[i]!,
      gid: this.#gid[i]!,
      user: this.#ownerNames[this.#user[i]!] || undefined,
      group: this.#ownerNames[this.#group[i]!] || undefined,
      mtimeNs: f & HAS_MTIME ? this.#mtime[i] : undefined,
      atimeNs: f & HAS_ATIME ? this.#atime[i] : undefined,
      extendedAttributes: this.#xattrs.get(i),
    }
  }

  /** @internal True if the entry has extended attributes. */
  hasXattrs(i: number): boolean {
    return this.#xattrs.has(i)
  }

  /** @internal Every owner and group name of the entries. */
  ownerNames(): string[] {
    return this.#ownerNames.slice(1)
  }

  #nameBytes(i: number): Buffer {
    const end = i + 1 < this.#n ? this.#nameStart[i + 1]! : this.#namesEnd
    return Buffer.from(this.#names.buffer, this.#names.byteOffset + this.#nameStart[i]!, end - this.#nameStart[i]!)
  }

  #displayName(i: number): string {
    return this.#displayNames.get(i) ?? this.#nameBytes(i).toString('utf8')
  }

  /** Path relative to the base, starting with `/` (lossy UTF-8 for names that are not valid UTF-8). */
  path(i: number): string {
    const at = this.#paths.get(i)
    if (at) return at.path
    const parts: string[] = []
    for (let j = i; j >= 0; j = this.#parent[j]!) parts.push(this.#displayName(j))
    return '/' + parts.reverse().join('/')
  }

  /** Where the entry goes on disk: a string, or the raw bytes when a name on the way is not valid UTF-8. */
  fsPath(i: number): FsPath {
    const at = this.#paths.get(i)
    if (at) return at.fsPath
    const p = this.#parent[i]!
    const dir: FsPath = p < 0 ? this.base : this.#dirPath(p)
    if ((this.#flags[i]! & RAW_PATH) === 0 && typeof dir === 'string') {
      const name = this.#nameBytes(i).toString('utf8')
      return dir.endsWith('/') ? dir + name : `${dir}/${name}`
    }
    return joinFsName(dir, this.#nameBytes(i))
  }

  #dirPath(i: number): FsPath {
    let p = this.#dirCache.get(i)
    if (p === undefined) {
      p = this.fsPath(i)
      if (this.#dirCache.size >= DIR_CACHE) this.#dirCache.clear()
      this.#dirCache.set(i, p)
    }
    return p
  }

  /** @internal Depth below the base (1: directly in it). */
  depth(i: number): number {
    let d = 0
    for (let j = i; j >= 0; j = this.#parent[j]!) d++
    return d
  }

  /** Entry `i` as an object. */
  at(i: number): PlanEntry {
    if (!Number.isInteger(i) || i < 0 || i >= this.#n) throw new RangeError(`no plan entry ${i} (the plan has ${this.#n})`)
    const e: PlanEntry = { path: this.path(i), fsPath: this.fsPath(i), type: this.type(i), action: this.action(i) }
    const link = this.#linkTo[i]!
    if (link >= 0) e.linkTo = link
    const file = this.#file[i]!
    if (file >= 0) e.file = file
    return e
  }

  *[Symbol.iterator](): Iterator<PlanEntry> {
    for (let i = 0; i < this.#n; i++) yield this.at(i)
  }
}
