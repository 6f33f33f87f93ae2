import { constants } from 'node:fs'
import type { RusticError } from '../../error/RusticError.js'
import type { ExtendedAttribute } from '../../repofile/Node.js'
import { nativeXattrsModulePath } from '../../util/nativeXattrs.js'
import { STAT_FIELDS, type DirectoryWorkerData, type ListReply, type ListRequest } from '../../workers/directory.protocol.js'
import { workerUrl } from '../../workers/workerUrl.js'
import { WorkerPool, type PendingJob } from '../../workers/WorkerPool.js'

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
function fsError(code: string, message: string): NodeJS.ErrnoException {
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

/** Extended attributes as {@link DirectoryWorker} sends them: flat `[index, name, value (binary string), ...]` and problems `[index, name or '', message, ...]`. */
export interface PackedXattrs {
  /** The attributes of all entries, in entry order and, per entry, in `llistxattr` order. */
  readonly values?: ReadonlyArray<number | string>
  /** The problems of all entries. */
  readonly problems?: ReadonlyArray<number | string>
}

/**
 * The entries of a directory, sorted by the bytes of their names, and (when read by
 * {@link DirectoryWorker}) the `lstat` of each with the target of each symlink and, if asked for, the
 * extended attributes of each entry that is not a symlink.
 */
export class DirectoryListing {
  private readonly failures: Map<number, NodeJS.ErrnoException> | undefined
  private readonly linkFailures: Map<number, NodeJS.ErrnoException> | undefined
  private readonly links: Map<number, string> | undefined
  private readonly attrs: Map<number, ExtendedAttribute[]> | undefined
  private readonly attrProblems: Map<number, XattrProblem[]> | undefined
  /** True if the extended attributes were read with the entries (see {@link DirectoryListing.xattrs}). */
  readonly hasXattrs: boolean

  /**
   * @param names - the names as binary strings (one char per byte), sorted.
   * @param stats - `lstat` numbers, 11 per entry in the order of `EntryStats`; none: not read (see
   *   {@link DirectoryListing.hasStats}).
   * @param errors - flat `[index, 0 (lstat) | 1 (readlink), code, message, ...]`.
   * @param links - flat `[index, target (binary string), ...]`.
   * @param xattrs - the entries' extended attributes; none: not read.
   */
  constructor(
    readonly names: string[],
    private readonly stats?: BigInt64Array,
    errors?: ReadonlyArray<number | string>,
    links?: ReadonlyArray<number | string>,
    xattrs?: PackedXattrs,
  ) {
    this.hasXattrs = xattrs !== undefined
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

  /** The problems met reading entry `i`'s extended attributes, if any. */
  xattrProblems(i: number): readonly XattrProblem[] | undefined {
    return this.attrProblems?.get(i)
  }
}

/** Lists a directory some other way (e.g. on the calling thread, names only). */
export type DirectoryFallback = (dir: string) => Promise<DirectoryListing>

/** A listing asked for and not answered yet. */
interface ListJob extends PendingJob {
  resolve(listing: DirectoryListing): void
  reject(error: unknown): void
  dir: string
  fallback: DirectoryFallback | undefined
}

/** Test hooks of {@link DirectoryWorker}. */
export interface DirectoryWorkerTestHooks {
  /**
   * The URL of a module whose `afterReaddir(dir, names)` export the worker calls between reading a
   * directory and `lstat`ing its entries (binary strings).
   */
  afterReaddir?: string
  /** The path the worker loads the xattr package from (default: where it resolves from here). */
  xattrModule?: string
}

/**
 * Reads directories on a worker thread (`workers/directory.worker.ts`): one round trip per directory
 * lists it (names as raw bytes, sorted) and `lstat`s (and `readlink`s, and if asked for reads the extended
 * attributes of) every entry, so that the main thread of a walk only receives compact answers. Many
 * directories may be asked for at once; requests made in the same microtask checkpoint go in one message,
 * and the newest are served first. A listing needed while the worker starts (see
 * {@link DirectoryWorker.hurry}), and every request once the worker has failed, go to the request's
 * fallback. {@link DirectoryWorker.close} ends the worker; walks share one through
 * {@link acquireDirectoryWorker}.
 */
export class DirectoryWorker {
  private readonly pool: WorkerPool<ListRequest, ListReply, ListJob>
  private batch: string[] = []
  /** Per directory of {@link DirectoryWorker.batch}: `1` to read the entries' xattrs, else `0`. */
  private batchXattrs = ''
  private batchStart = 0
  /** Requests with a fallback made before the worker ran, by their promise (see {@link DirectoryWorker.hurry}). */
  private readonly early = new Map<Promise<DirectoryListing>, number>()

  /** Starts the worker; throws if worker threads are not available. */
  constructor(testHooks: DirectoryWorkerTestHooks = {}) {
    const workerData: DirectoryWorkerData = {
      afterReaddir: testHooks.afterReaddir,
      xattrModule: testHooks.xattrModule ?? nativeXattrsModulePath(),
    }
    this.pool = new WorkerPool({
      name: 'directory',
      url: workerUrl('directory'),
      size: 1,
      setup: () => ({ workerData, state: undefined }),
      onMessage: (_w, m) => this.answer(m),
      onOnline: () => this.early.clear(),
      onFailure: () => {
        this.early.clear()
        this.batch = []
        this.batchXattrs = ''
      },
    })
  }

  /** True once the worker has failed or was closed: requests then go to their fallbacks, or fail. */
  get broken(): boolean {
    return this.pool.failure !== undefined || this.pool.closed
  }

  /**
   * Lists directory `dir` (a binary string: one char per byte) with the `lstat` of each entry. Rejects
   * like `fs.readdir` (an `Error` with the `code`) if the directory cannot be read.
   * @param fallback - lists the directory if the worker has failed, or has not started when the
   *   listing is needed (see {@link DirectoryWorker.hurry}).
   * @param xattrs - also read the extended attributes of the entries (the listing may still come
   *   without them: see {@link DirectoryListing.hasXattrs}).
   */
  list(dir: string, fallback?: DirectoryFallback, xattrs = false): Promise<DirectoryListing> {
    if (this.pool.closed) return Promise.reject(new Error('the directory worker is closed'))
    if (this.pool.failure !== undefined) return fallback ? fallback(dir) : Promise.reject(new Error('the directory worker failed'))
    let id = -1
    const promise = new Promise<DirectoryListing>((resolve, reject) => {
      const job: ListJob = {
        resolve,
        reject,
        dir,
        fallback,
        // a failed worker's requests go to their fallbacks; a closed one's fail
        fail: (e: RusticError) => (fallback && !this.pool.closed ? fallback(dir).then(resolve, reject) : reject(e)),
      }
      id = this.pool.add(this.pool.workers[0]!, job)
      if (id < 0) return
      if (this.batch.length === 0) {
        this.batchStart = id
        queueMicrotask(() => this.flush())
      }
      this.batch.push(dir)
      this.batchXattrs += xattrs ? '1' : '0'
    })
    if (!this.pool.workers[0]!.online && fallback) this.early.set(promise, id)
    return promise
  }

  /**
   * Says that `listing` (a promise {@link DirectoryWorker.list} returned) is needed now: if the worker
   * has not started yet, the directory is listed by the request's fallback instead of waiting for it.
   */
  hurry(listing: Promise<DirectoryListing>): void {
    const id = this.early.get(listing)
    if (id === undefined) return
    this.early.delete(listing)
    const w = this.pool.workers[0]!
    if (w.jobs.get(id)?.fallback === undefined) return
    const r = this.pool.take(w, id)! // the worker's answer will be dropped
    r.fallback!(r.dir).then(r.resolve, r.reject)
  }

  /** Ends the worker; pending requests fail. */
  async close(): Promise<void> {
    this.early.clear()
    this.batch = []
    this.batchXattrs = ''
    await this.pool.close()
  }

  private flush(): void {
    const dirs = this.batch
    if (dirs.length === 0) return
    const xattrs = this.batchXattrs.includes('1') ? this.batchXattrs : undefined
    this.batch = []
    this.batchXattrs = ''
    this.pool.post(this.pool.workers[0]!, { id: this.batchStart, dirs: dirs.join('\0'), xattrs })
  }

  private answer(m: ListReply): void {
    const r = this.pool.take(this.pool.workers[0]!, m.id)
    if (r === undefined) return
    if (!('names' in m)) r.reject(fsError(m.code, m.message))
    else {
      const xattrs = m.x ? { values: m.xattrs, problems: m.xattrProblems } : undefined
      r.resolve(new DirectoryListing(m.names === '' ? [] : m.names.split('/'), m.stats, m.errors, m.links, xattrs))
    }
  }
}

/** How long the shared worker stays after its last walk ended, for the next one. */
const IDLE_MS = 2000

let shared: { worker: DirectoryWorker; users: number; timer?: NodeJS.Timeout } | undefined

/**
 * The directory worker walks share (so that concurrent walks, e.g. a backup's size scan and its walk,
 * and walks that follow each other do not each start one): started by the first, closed when none has
 * used it for a while. Give it back with {@link releaseDirectoryWorker}. Throws if worker threads are
 * not available.
 */
export function acquireDirectoryWorker(): DirectoryWorker {
  if (shared === undefined || shared.worker.broken) shared = { worker: new DirectoryWorker(), users: 0 }
  clearTimeout(shared.timer)
  shared.users++
  return shared.worker
}

/** Gives back a worker {@link acquireDirectoryWorker} returned. */
export function releaseDirectoryWorker(worker: DirectoryWorker): void {
  const s = shared
  if (s === undefined || s.worker !== worker) return
  if (--s.users > 0) return
  s.timer = setTimeout(() => {
    if (shared !== s || s.users > 0) return
    shared = undefined
    void s.worker.close()
  }, IDLE_MS).unref()
}
