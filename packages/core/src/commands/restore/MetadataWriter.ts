import { chmodSync, lchownSync, linkSync, lstatSync, readFileSync, symlinkSync } from 'node:fs'
import { UserNames } from '../../archiver/userNames.js'
import { nodeLinktargetBytes, unixPermFromGoMode, type ExtendedAttribute, type Node } from '../../repofile/index.js'
import { runCommand } from '../../util/command.js'
import { isUnsupportedXattrError, nativeXattrs, nativeXattrsUnavailable, type NativeXattrs } from '../../util/nativeXattrs.js'
import type { FileMetadata } from '../../workers/restore.protocol.js'
import { displayPath, type FsPath } from './fsPath.js'
import { nanosecondTimesUnavailable, setPathTimes } from '../../util/nativeTimes.js'
import { sameTime } from './nodeTimes.js'
import type { EntryMeta } from './PlanEntries.js'

/** Options of {@link MetadataWriter}. */
export interface MetadataWriterOptions {
  /** Restore ownership from numeric ids instead of names. */
  numericId: boolean
  /** Do not restore ownership. */
  noOwnership: boolean
  /** Receives problems (nothing here fails the restore, as in restic and rustic). */
  warn: (message: string, error?: unknown) => void
  /** Resolves owner names (default: `/etc/passwd` and `/etc/group`). */
  userNames?: UserNames
}

/**
 * The process's umask from `/proc/self/status` (Node's `process.umask()` sets it to 0 and back to read it, which
 * races with files other threads create meanwhile); where that cannot be read, 0o777: no mode is then taken
 * as `open` would give it (see `FileMetadata.createMode`).
 */
function processUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'))
    if (m) return parseInt(m[1]!, 8)
  } catch {
    // (not Linux, or no /proc)
  }
  return 0o777
}

/** Linux `major()` of a `dev_t`. */
function major(dev: bigint): bigint {
  return ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)
}

/** Linux `minor()` of a `dev_t`. */
function minor(dev: bigint): bigint {
  return (dev & 0xffn) | ((dev >> 12n) & ~0xffn)
}

/**
 * Creates symlinks, hard links and special files, and sets metadata (ownership when root, extended
 * attributes, mode, times) on restored entries, changing only what differs. Never follows a symlink:
 * ownership uses `lchown`, times `utimensat` with `AT_SYMLINK_NOFOLLOW` (to the nanosecond, as restic; Node's
 * `lutimes` to the microsecond where that system call cannot be loaded, see `timePrecision`), and mode and extended attributes (`lsetxattr`) are only set
 * on entries `lstat` shows are not symlinks.
 */
export class MetadataWriter {
  private readonly names: UserNames
  private readonly asRoot = typeof process.getuid === 'function' && process.getuid() === 0
  /**
   * The owner a file created now gets by itself, where the restore knows it (see {@link MetadataWriter.knowNewFilesOwner}):
   * the process's user and group, when no directory files are created in is setgid.
   */
  private newFilesOwner: { uid: number; gid: number } | undefined
  /** The process's umask, read once (what `open` takes from a new file's mode). */
  private readonly umask = processUmask()
  /** The xattr package, once loaded (`null`: it does not load here). */
  private xattrs: NativeXattrs | null | undefined
  /** Attributes the target's file system refused as unsupported (reported once each). */
  private readonly unsupportedXattrs = new Set<string>()
  private readonly uids = new Map<string, number | undefined>()
  /** Whether entries without a mode, and the time precision, were reported (once per restore each). */
  private warnedNoMode = false
  private warnedPrecision = false
  private readonly gids = new Map<string, number | undefined>()

  constructor(private readonly options: MetadataWriterOptions) {
    this.names = options.userNames ?? new UserNames()
  }

  /** Looks up owner and group `names` (call before {@link MetadataWriter.apply}, which is synchronous). */
  async prepare(names: Iterable<string>): Promise<void> {
    if (!this.asRoot || this.options.noOwnership || this.options.numericId) return
    for (const n of names) {
      if (!this.uids.has(n)) this.uids.set(n, await this.names.uidOf(n))
      if (!this.gids.has(n)) this.gids.set(n, await this.names.gidOf(n))
    }
  }

  /** Creates a symlink, fifo or device node at `path` (devices only as root; sockets are not restored). */
  async createSpecial(node: Node, path: FsPath): Promise<boolean> {
    switch (node.type) {
      case 'symlink': {
        const t = nodeLinktargetBytes(node)
        symlinkSync(node.linktargetRaw ? Buffer.from(t) : (node.linktarget ?? ''), path)
        return true
      }
      case 'fifo':
      case 'dev':
      case 'chardev': {
        if (typeof path !== 'string') {
          this.options.warn(`cannot create ${node.type} ${displayPath(path)}: its name is not valid UTF-8`)
          return false
        }
        if (node.type !== 'fifo' && !this.asRoot) {
          this.options.warn(`cannot create device ${path}: only root can`)
          return false
        }
        const argv =
          node.type === 'fifo'
            ? ['mkfifo', '-m', '600', '--', path]
            : ['mknod', '-m', '600', '--', path, node.type === 'dev' ? 'b' : 'c', String(major(node.device ?? 0n)), String(minor(node.device ?? 0n))]
        try {
          await runCommand(argv, `creating ${node.type} ${path}`)
          return true
        } catch (e) {
          this.options.warn(`cannot create ${node.type} ${path}: ${(e as Error).message}`, e)
          return false
        }
      }
      default:
        return false
    }
  }

  /**
   * The metadata a freshly written file gets (for a worker to set on its open descriptor): owner (as
   * root, unless disabled), permission bits, and times as `utimes` seconds. Call after {@link MetadataWriter.prepare}.
   * `undefined` for a node with extended attributes: {@link MetadataWriter.apply} sets its metadata, the
   * xattrs between owner and mode (a read-only mode would refuse them to a user; `chown` clears `security.capability`).
   */
  fileMetadata(node: EntryMeta): FileMetadata | undefined {
    const mtime = node.mtimeNs
    if (node.mode === undefined || mtime === undefined || (node.extendedAttributes?.length ?? 0) > 0) return undefined
    const atime = node.atimeNs ?? mtime
    this.reportPrecision()
    const mode = unixPermFromGoMode(node.mode)
    const meta: FileMetadata = { mode, atimeNs: atime, mtimeNs: mtime }
    // (a mode `open` gives as it is: the file gets it as it is created, and needs no fchmod)
    if ((mode & 0o7000) === 0 && (mode & 0o200) !== 0 && (mode & this.umask) === 0) meta.createMode = true
    if (this.asRoot && !this.options.noOwnership) {
      const uid = (meta.uid = this.options.numericId || !node.user ? node.uid : (this.uids.get(node.user) ?? node.uid))
      const gid = (meta.gid = this.options.numericId || !node.group ? node.gid : (this.gids.get(node.group) ?? node.gid))
      if (this.newFilesOwner !== undefined && uid === this.newFilesOwner.uid && gid === this.newFilesOwner.gid) meta.createOwner = true
    }
    return meta
  }

  /**
   * Tells the writer that every file created from now on is created in a directory that is not setgid (the
   * restore made every directory itself, in a target that is not setgid), so that a new file's owner is the
   * process's user and group and {@link MetadataWriter.fileMetadata} can mark metadata with that owner
   * `createOwner` (no `fchown` needed).
   */
  knowNewFilesOwner(): void {
    if (typeof process.geteuid === 'function' && typeof process.getegid === 'function') this.newFilesOwner = { uid: process.geteuid(), gid: process.getegid() }
  }

  /** Makes `path` a hard link to `existing`. */
  hardLink(existing: FsPath, path: FsPath): void {
    linkSync(existing, path)
  }

  /**
   * Sets ownership (as root, unless disabled), extended attributes, mode and times of `path` to the
   * node's where they differ. Times are set when the mtime differs or `touched` (content just written);
   * an atime-only difference is left alone (reading a file changes it). Extended attributes are set
   * where missing or different; others the file has are kept (as restic 0.14 does). Returns true if
   * anything was changed. Synchronous: a few cheap calls per entry, cheaper than thread-pool round trips.
   */
  apply(node: EntryMeta, path: FsPath, touched: boolean): boolean {
    const where = displayPath(path)
    let st
    try {
      st = lstatSync(path, { bigint: true })
    } catch (e) {
      this.options.warn(`cannot set metadata of ${where}: ${(e as Error).message}`, e)
      return false
    }
    let changed = false
    let chowned = false
    const isLink = st.isSymbolicLink()
    if (this.asRoot && !this.options.noOwnership) {
      let uid = node.uid
      let gid = node.gid
      if (!this.options.numericId) {
        if (node.user) uid = this.uids.get(node.user) ?? uid
        if (node.group) gid = this.gids.get(node.group) ?? gid
      }
      if (BigInt(uid) !== st.uid || BigInt(gid) !== st.gid) {
        try {
          lchownSync(path, uid, gid)
          changed = chowned = true
        } catch (e) {
          this.options.warn(`cannot set owner of ${where} to ${uid}:${gid}: ${(e as Error).message}`, e)
        }
      }
    }
    // restic 0.14 reads no xattrs of symlinks (and would follow the link to set them): none are set on one
    let xattrsSet = false
    if (!isLink && node.extendedAttributes !== undefined && node.extendedAttributes.length > 0) {
      xattrsSet = this.setXattrs(node.extendedAttributes, path, where)
      changed ||= xattrsSet
    }
    if (!isLink && node.mode === undefined && !this.warnedNoMode) {
      this.warnedNoMode = true
      this.options.warn(
        `${where} has no mode in the snapshot (taken on Windows?): it keeps 0600 (files) or 0700 (directories), ` +
          'as every such entry of this restore does (restic sets 0000)',
      )
    }
    if (!isLink && node.mode !== undefined) {
      const perm = unixPermFromGoMode(node.mode)
      if ((Number(st.mode) & 0o7777) !== perm || chowned || xattrsSet) {
        // chown may have cleared setuid/setgid bits, a `system.posix_acl_access` xattr rewrites the group
        // bits: set the mode after them
        try {
          chmodSync(path, perm)
          changed = true
        } catch (e) {
          this.options.warn(`cannot set mode of ${where} to ${perm.toString(8)}: ${(e as Error).message}`, e)
        }
      }
    }
    const mtime = node.mtimeNs
    if (mtime !== undefined && (touched || !sameTime(st.mtimeNs, mtime))) {
      const atime = node.atimeNs ?? mtime
      this.reportPrecision()
      try {
        setPathTimes(path, atime, mtime)
        changed = true
      } catch (e) {
        this.options.warn(`cannot set times of ${where}: ${(e as Error).message}`, e)
      }
    }
    return changed
  }

  /** Warns once per restore when file times are set to the microsecond only (no nanosecond system call here). */
  private reportPrecision(): void {
    if (this.warnedPrecision) return
    this.warnedPrecision = true
    const why = nanosecondTimesUnavailable()
    if (why !== undefined) this.options.warn(`file times are restored to the microsecond, not the nanosecond: ${why}`)
  }

  /**
   * Sets the attributes `path` lacks or has with another value (read first: an in-place restore changes
   * nothing that is right), each on its own (restic 0.14 stops at the first failure, and reports none
   * unless an earlier step failed). Failures are warnings; the file system refusing an attribute as
   * unsupported is reported once per attribute name. Returns true if any attribute was set.
   */
  private setXattrs(attrs: readonly ExtendedAttribute[], path: FsPath, where: string): boolean {
    if (this.xattrs === undefined) {
      this.xattrs = nativeXattrs() ?? null
      if (this.xattrs === null) this.options.warn(`extended attributes are not restored: ${nativeXattrsUnavailable() ?? 'no xattr support'}`)
    }
    const x = this.xattrs
    if (x === null) return false
    if (typeof path !== 'string') {
      // the package takes paths as text: the lossy form of this one would name another file
      this.options.warn(`cannot set extended attributes of ${where}: its path is not valid UTF-8`)
      return false
    }
    let changed = false
    for (const a of attrs) {
      const current = x.getAttributeSync(path, a.name)
      if (current !== null && current.equals(a.value)) continue
      try {
        x.setAttributeSync(path, a.name, a.value)
        changed = true
      } catch (e) {
        if (isUnsupportedXattrError(e)) {
          if (this.unsupportedXattrs.has(a.name)) continue
          this.unsupportedXattrs.add(a.name)
          this.options.warn(`cannot set extended attribute ${a.name} of ${where}: ${(e as Error).message} (not reported again for ${a.name})`, e)
        } else {
          this.options.warn(`cannot set extended attribute ${a.name} of ${where}: ${(e as Error).message}`, e)
        }
      }
    }
    return changed
  }
}
