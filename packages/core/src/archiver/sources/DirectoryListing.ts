import { constants } from 'node:fs'
import type { ExtendedAttribute } from '../../repofile/Node.js'
import { STAT_FIELDS } from '../../workers/directory.protocol.js'

/** The parts of `fs.BigIntStats` the walk and `nodeFromStats` use. */
export interface EntryStats {
  readonly dev: bigint
  readonly ino: bigint
  readonly mode: bigint
  readonly nlink: bigint
  readonly uid: bigint
  readonly gid: bigint
  readonly rdev: bigint
  readonly size: bigint
  readonly atimeNs: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
  isFile(): boolean
  isDirectory(): boolean
  isSymbolicLink(): boolean
  isSocket(): boolean
  isFIFO(): boolean
  isCharacterDevice(): boolean
  isBlockDevice(): boolean
}

/** `lstat` numbers of one entry, read from the worker's array when asked for. */
class PackedStats implements EntryStats {
  private readonly type: number

  constructor(
    private readonly a: BigInt64Array,
    private readonly o: number,
  ) {
    this.type = Number(a[o + 2]!) & constants.S_IFMT
  }

  get dev(): bigint {
    return this.a[this.o]!
  }
  get ino(): bigint {
    return this.a[this.o + 1]!
  }
  get mode(): bigint {
    return this.a[this.o + 2]!
  }
  get nlink(): bigint {
    return this.a[this.o + 3]!
  }
  get uid(): bigint {
    return this.a[this.o + 4]!
  }
  get gid(): bigint {
    return this.a[this.o + 5]!
  }
  get rdev(): bigint {
    return this.a[this.o + 6]!
  }
  get size(): bigint {
    return this.a[this.o + 7]!
  }
  get atimeNs(): bigint {
    return this.a[this.o + 8]!
  }
  get mtimeNs(): bigint {
    return this.a[this.o + 9]!
  }
  get ctimeNs(): bigint {
    return this.a[this.o + 10]!
  }
  isFile(): boolean {
    return this.type === constants.S_IFREG
  }
  isDirectory(): boolean {
    return this.type === constants.S_IFDIR
  }
  isSymbolicLink(): boolean {
    return this.type === constants.S_IFLNK
  }
  isSocket(): boolean {
    return this.type === constants.S_IFSOCK
  }
  isFIFO(): boolean {
    return this.type === constants.S_IFIFO
  }
  isCharacterDevice(): boolean {
    return this.type === constants.S_IFCHR
  }
  isBlockDevice(): boolean {
    return this.type === constants.S_IFBLK
  }
}

/** Flat `[entry index, a, b, ...]` triples as lists by entry index, each triple made into an item. */
function byEntry<T>(flat: ReadonlyArray<number | string>, item: (a: number | string, b: number | string) => T): Map<number, T[]> {
  const map = new Map<number, T[]>()
  for (let k = 0; k < flat.length; k += 3) {
    const i = flat[k] as number
    let list = map.get(i)
    if (list === undefined) map.set(i, (list = []))
    list.push(item(flat[k + 1]!, flat[k + 2]!))
  }
  return map
}

/** An error as `node:fs` throws it: the system message and the errno `code`. */
export function fsError(code: string, message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message)
  if (code !== '') e.code = code
  return e
}

/** A problem met reading an entry's extended attributes (see {@link DirectoryListing.xattrProblems}). */
export interface XattrProblem {
  /** The attribute that could not be read; `undefined` when none could (the listing failed). */
  readonly attribute: string | undefined
  /** Why, for a listing failure (an attribute's value is read without a reason). */
  readonly message: string
}

/** Extended attributes as the directory worker sends them: flat `[index, name, value (binary string), ...]` and problems `[index, name or '', message, ...]`. */
export interface PackedXattrs {
  /** The attributes of all entries, in entry order and, per entry, in `llistxattr` order. */
  readonly values?: ReadonlyArray<number | string>
  /** The problems of all entries. */
  readonly problems?: ReadonlyArray<number | string>
}

/**
 * The entries of a directory, sorted by the bytes of their names, and (when read by
 * `DirectoryWorker`) the `lstat` of each with the target of each symlink and, if asked for, the
 * extended attributes of each entry that is not a symlink.
 */
export class DirectoryListing {
  private readonly failures: Map<number, NodeJS.ErrnoException> | undefined
  private readonly linkFailures: Map<number, NodeJS.ErrnoException> | undefined
  private readonly links: Map<number, string> | undefined
  private readonly attrs: Map<number, ExtendedAttribute[]> | undefined
  private readonly attrProblems: Map<number, XattrProblem[]> | undefined
  /** Entries of size 0 found still empty, when they were checked. */
  private readonly empties: Set<number> | undefined
  /** True if the extended attributes were read with the entries (see {@link DirectoryListing.xattrs}). */
  readonly hasXattrs: boolean

  /**
   * @param names - the names as binary strings (one char per byte), sorted.
   * @param stats - `lstat` numbers, 11 per entry in the order of `EntryStats`; none: not read (see
   *   {@link DirectoryListing.hasStats}).
   * @param errors - flat `[index, 0 (lstat) | 1 (readlink), code, message, ...]`.
   * @param links - flat `[index, target (binary string), ...]`.
   * @param xattrs - the entries' extended attributes; none: not read.
   * @param empty - the indexes of the regular files of size 0 found still empty; none: not checked.
   */
  constructor(
    readonly names: string[],
    private readonly stats?: BigInt64Array,
    errors?: ReadonlyArray<number | string>,
    links?: ReadonlyArray<number | string>,
    xattrs?: PackedXattrs,
    empty?: readonly number[],
  ) {
    this.hasXattrs = xattrs !== undefined
    if (empty !== undefined) this.empties = new Set(empty)
    if (xattrs?.values !== undefined) {
      this.attrs = byEntry(xattrs.values, (name, value) => ({ name: name as string, value: Buffer.from(value as string, 'latin1') }))
    }
    if (xattrs?.problems !== undefined) {
      this.attrProblems = byEntry(xattrs.problems, (attribute, message) => ({
        attribute: attribute === '' ? undefined : (attribute as string),
        message: message as string,
      }))
    }
    if (errors !== undefined) {
      for (let k = 0; k < errors.length; k += 4) {
        const e = fsError(errors[k + 2] as string, errors[k + 3] as string)
        if (errors[k + 1] === 0) (this.failures ??= new Map()).set(errors[k] as number, e)
        else (this.linkFailures ??= new Map()).set(errors[k] as number, e)
      }
    }
    if (links !== undefined) {
      this.links = new Map()
      for (let k = 0; k < links.length; k += 2) this.links.set(links[k] as number, links[k + 1] as string)
    }
  }

  /** True if the entries' `lstat`s were read with the names. */
  get hasStats(): boolean {
    return this.stats !== undefined
  }

  /** Entry `i`'s `lstat`, or the error of reading it; `undefined` if the listing has no stats. */
  lstat(i: number): EntryStats | NodeJS.ErrnoException | undefined {
    if (this.stats === undefined) return undefined
    return this.failures?.get(i) ?? new PackedStats(this.stats, i * STAT_FIELDS)
  }

  /** For a symlink entry: its target (bytes), or the error of reading it; `undefined` if not read. */
  linkTarget(i: number): Buffer | NodeJS.ErrnoException | undefined {
    const target = this.links?.get(i)
    if (target !== undefined) return Buffer.from(target, 'latin1')
    return this.linkFailures?.get(i)
  }

  /**
   * Entry `i`'s extended attributes (in `llistxattr` order): `null` if it has none, or is a symlink, or
   * they could not be read (see {@link DirectoryListing.xattrProblems}); `undefined` if the listing has no
   * xattrs ({@link DirectoryListing.hasXattrs} is false).
   */
  xattrs(i: number): ExtendedAttribute[] | null | undefined {
    if (!this.hasXattrs) return undefined
    return this.attrs?.get(i) ?? null
  }

  /**
   * For entry `i`, a regular file of size 0: true if it was still empty when checked right after its `lstat`
   * (opened, `fstat`ed, read: see `isStillEmpty`), false if not; `undefined` if the listing did not check.
   */
  emptyFile(i: number): boolean | undefined {
    return this.empties?.has(i)
  }

  /** The problems met reading entry `i`'s extended attributes, if any. */
  xattrProblems(i: number): readonly XattrProblem[] | undefined {
    return this.attrProblems?.get(i)
  }
}
