/** `lstat` numbers kept per entry, in this order: dev, ino, mode, nlink, uid, gid, rdev, size, atimeNs, mtimeNs, ctimeNs. */
export const STAT_FIELDS = 11

/** The `workerData` of a directory worker. */
export interface DirectoryWorkerData {
  /** Where the worker loads the xattr package from (`@napi-rs/xattr`); undefined: it reads no xattrs. */
  xattrModule: string | undefined
  /**
   * For tests: the URL of a module whose `afterReaddir(dir, names)` export the worker calls between reading
   * a directory and `lstat`ing its entries (see {@link AfterReaddir}).
   */
  afterReaddir: string | undefined
}

/** The test hook of {@link DirectoryWorkerData.afterReaddir}: `dir` and `names` are binary strings. */
export type AfterReaddir = (dir: string, names: readonly string[]) => void

/**
 * List directories: `dirs` joined with NUL (binary strings: one char per byte), the `k`-th answered with id
 * `id + k`. `xattrs`: a `0`/`1` flag per directory, `1` to read its entries' extended attributes (undefined: none).
 * `empty`: likewise, `1` to check each regular file of size 0 (open, `fstat`, read) right after its `lstat`.
 */
export interface ListRequest {
  id: number
  dirs: string
  xattrs: string | undefined
  empty: string | undefined
}

/**
 * A directory's entries: names (binary strings) sorted by bytes and joined with `/` (no name holds one),
 * {@link STAT_FIELDS} `lstat` numbers per entry (transferred), and flat lists by entry index.
 */
export interface Listed {
  id: number
  names: string
  stats: BigInt64Array
  /** `[index, 0 (lstat) | 1 (readlink), code, message, ...]`. */
  errors: Array<number | string> | undefined
  /** `[index, target (binary string), ...]` of the symlinks. */
  links: Array<number | string> | undefined
  /** True if extended attributes were read (the xattr package loaded). */
  x: boolean
  /** `[index, name, value (binary string), ...]`, per entry in `llistxattr` order. */
  xattrs: Array<number | string> | undefined
  /** `[index, name ('' for the whole entry), message, ...]`. */
  xattrProblems: Array<number | string> | undefined
  /**
   * If the files of size 0 were checked: the indexes of those found still empty (the others were not, or
   * could not be checked). Undefined: not checked.
   */
  empty: number[] | undefined
}

/** A directory that could not be read, as `fs.readdir` failed. */
export interface ListFailed {
  id: number
  code: string
  message: string
}

/** Messages from a directory worker. */
export type ListReply = Listed | ListFailed
