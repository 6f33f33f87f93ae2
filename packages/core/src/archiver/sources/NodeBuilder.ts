import { readlink } from 'node:fs/promises'
import type { LimitFunction } from 'p-limit'
import type { ExtendedAttribute, Node } from '../../repofile/Node.js'
import { fsErrorReason } from '../../error/fsErrorReason.js'
import { nodeFromStats, type NodeExtras } from '../nodeFromStats.js'
import type { UserNames } from '../userNames.js'
import { lossy } from './binaryPaths.js'
import type { EntryStats } from './DirectoryListing.js'
import { binaryBytes } from './goPath.js'
import type { XattrReader } from './LocalSourceOptions.js'
import type { LocalXattrs } from './LocalXattrs.js'

/** An item to make a node of: its name (binary, and as text), absolute path (binary) and `lstat`. */
export interface NodeSource {
  name: string
  shownName: string
  abs: string
  st: EntryStats
}

/** The options of `LocalSource` about nodes. */
export interface NodeOptions {
  userNames: UserNames
  withAtime: boolean
  ignoreDevid: boolean
}

/**
 * Makes the nodes of a local walk from the items' `lstat`s, symlink targets, extended attributes and owner
 * names, as restic 0.14 does; synchronously when nothing needs waiting for (the owner names of most items
 * are looked up already).
 */
export class NodeBuilder {
  /** Owner names looked up so far, by uid and gid (`undefined`: no name). */
  private readonly users = new Map<number, string | undefined>()
  private readonly groups = new Map<number, string | undefined>()

  constructor(
    private readonly options: NodeOptions,
    /** Bounds the file system calls made here. */
    private readonly limit: LimitFunction,
    private readonly xattrs: LocalXattrs,
  ) {}

  /**
   * The node of an item: synchronously when the symlink target (if any) is known, the xattrs are known
   * (read by the directory worker) or not to be read, and the owner names were looked up before; throws
   * (or rejects) if the symlink cannot be read.
   * @param link - the symlink target if already read (an `Error`: reading it failed).
   * @param xattrs - the item's extended attributes if already read (`null`: none), else `undefined`:
   *   they are read here with `reader` (symlinks have none, as restic 0.14 reads none of them).
   */
  make(
    item: NodeSource,
    link: Buffer | Error | undefined,
    xattrs: ExtendedAttribute[] | null | undefined,
    reader: XattrReader | undefined,
  ): Node | Promise<Node> {
    const st = item.st
    const isLink = st.isSymbolicLink()
    if (isLink && link instanceof Error) throw link
    const uid = Number(st.uid)
    const gid = Number(st.gid)
    if ((isLink ? link === undefined : xattrs === undefined && reader !== undefined) || !this.users.has(uid) || !this.groups.has(gid)) {
      return this.makeAsync(item, link as Buffer | undefined, xattrs, reader)
    }
    return this.build(item, isLink ? (link as Buffer) : undefined, xattrs ?? undefined, uid, gid)
  }

  private async makeAsync(
    item: NodeSource,
    link: Buffer | undefined,
    known: ExtendedAttribute[] | null | undefined,
    reader: XattrReader | undefined,
  ): Promise<Node> {
    const { abs, st } = item
    const bytes = binaryBytes(abs)
    let xattrs = known ?? undefined
    if (st.isSymbolicLink()) {
      link ??= await this.limit(() => readlink(bytes, { encoding: 'buffer' }))
    } else if (known === undefined && reader !== undefined) {
      try {
        xattrs = await this.limit(() => reader(bytes))
      } catch (e) {
        this.xattrs.warn(lossy(abs), [{ attribute: undefined, message: fsErrorReason(e) }])
      }
    }
    const uid = Number(st.uid)
    const gid = Number(st.gid)
    if (!this.users.has(uid)) this.users.set(uid, await this.options.userNames.userName(uid))
    if (!this.groups.has(gid)) this.groups.set(gid, await this.options.userNames.groupName(gid))
    return this.build(item, st.isSymbolicLink() ? link : undefined, xattrs, uid, gid)
  }

  private build(item: NodeSource, linktarget: Buffer | undefined, xattrs: ExtendedAttribute[] | undefined, uid: number, gid: number): Node {
    const { name, shownName, st } = item
    const extras: NodeExtras = {}
    if (linktarget !== undefined) extras.linktarget = linktarget
    if (xattrs !== undefined) extras.xattrs = xattrs
    const user = this.users.get(uid)
    const group = this.groups.get(gid)
    if (user !== undefined) extras.user = user
    if (group !== undefined) extras.group = group
    if (this.options.withAtime) extras.withAtime = true
    // a name that is valid UTF-8 is its text (no U+FFFD but where it really holds one); else its bytes
    const node = nodeFromStats(shownName.includes('\ufffd') ? binaryBytes(name) : shownName, st, extras)
    if (this.options.ignoreDevid) delete node.deviceId
    return node
  }
}
