import { constants } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type { ExtendedAttribute } from '../../repofile/Node.js'
import { IGNORED_XATTR_ERRNOS, nativeXattrsModulePath } from '../../util/nativeXattrs.js'

/** Numbers kept per entry: dev, ino, mode, nlink, uid, gid, rdev, size, atimeNs, mtimeNs, ctimeNs. */
const FIELDS = 11

/**
 * The worker. Paths and names travel as binary strings (one char per byte, latin1), which are exact for
 * any bytes and cheap to clone; a directory's names are joined with `/` (no name holds one).
 *
 * Requests are batches of directories (joined with NUL); the newest batch is served first, each
 * directory on its own turn of the event loop, so that a listing the walk needs next (a child of the
 * directory just entered) overtakes the look-ahead listings of its parent's siblings. Each directory
 * is answered on its own: names sorted by bytes, `lstat` numbers in a transferred `BigInt64Array`,
 * symlink targets, and the errors of entries that could not be read.
 *
 * For the directories asked for with xattrs (`m.xattrs`: a `0`/`1` flag per directory), each entry but a
 * symlink (restic 0.14's `fillExtendedAttributes` skips them) also gets its extended attributes right
 * after its `lstat`, the restic way: names in `llistxattr` order, `ENOTSUP`/`ENOATTR` from the listing
 * ignored (`handleXattrErr`), an attribute that cannot be read left out and reported. They travel as flat
 * `[index, name, value (binary string), ...]`; problems as `[index, name ('' for the whole entry), message, ...]`.
 * The xattr package (its path in `workerData.xattr`) is loaded on first use; if it does not load, the
 * answers say that no xattrs were read (`x` unset) and the caller reads them itself.
 */
const WORKER_SOURCE = `'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const afterReaddir = workerData && workerData.afterReaddir ? new Function('return (' + workerData.afterReaddir + ')')() : undefined
const { isUtf8 } = require('node:buffer')
const F = ${FIELDS}
const LNK = ${constants.S_IFLNK}, FMT = ${constants.S_IFMT}
const XATTR_PATH = workerData && workerData.xattr
const XATTR_IGNORED = (workerData && workerData.xattrIgnored) || []
const NON_ASCII = /[^\\x00-\\x7f]/
let xattrModule
function xattrs() {
  if (xattrModule === undefined) {
    try { xattrModule = XATTR_PATH ? require(XATTR_PATH) : null } catch { xattrModule = null }
  }
  return xattrModule
}
function errnoOf(e) {
  const m = /\\(os error (\\d+)\\)$/.exec(String((e && e.message) || e))
  return m ? Number(m[1]) : -1
}
const batches = []
let scheduled = false
parentPort.on('message', (m) => {
  batches.push({ id: m.id, dirs: m.dirs.split('\\0'), x: m.xattrs, next: 0 })
  if (!scheduled) { scheduled = true; setImmediate(run) }
})
function run() {
  scheduled = false
  const b = batches[batches.length - 1]
  if (b === undefined) return
  const k = b.next++
  if (b.next >= b.dirs.length) batches.pop()
  list(b.id + k, b.dirs[k], b.x !== undefined && b.x.charCodeAt(k) === 49)
  if (batches.length > 0) { scheduled = true; setImmediate(run) }
}
function list(id, dir, withXattrs) {
  let names
  try {
    names = fs.readdirSync(Buffer.from(dir, 'latin1'), { encoding: 'latin1' })
  } catch (e) {
    parentPort.postMessage({ id, code: String((e && e.code) || ''), message: String((e && e.message) || e) })
    return
  }
  if (afterReaddir) afterReaddir(dir, names, fs)
  names.sort()
  const n = names.length
  const stats = new BigInt64Array(n * F)
  const prefix = dir.endsWith('/') ? dir : dir + '/'
  const X = withXattrs ? xattrs() : null
  const asciiPrefix = !NON_ASCII.test(prefix)
  let errors, links, xa, xp
  for (let i = 0; i < n; i++) {
    const p = Buffer.from(prefix + names[i], 'latin1')
    let s
    try {
      s = fs.lstatSync(p, { bigint: true })
    } catch (e) {
      ;(errors ??= []).push(i, 0, String((e && e.code) || ''), String((e && e.message) || e))
      continue
    }
    const o = i * F
    stats[o] = s.dev; stats[o + 1] = s.ino; stats[o + 2] = s.mode; stats[o + 3] = s.nlink; stats[o + 4] = s.uid
    stats[o + 5] = s.gid; stats[o + 6] = s.rdev; stats[o + 7] = s.size; stats[o + 8] = s.atimeNs
    stats[o + 9] = s.mtimeNs; stats[o + 10] = s.ctimeNs
    if ((Number(s.mode) & FMT) === LNK) {
      try {
        ;(links ??= []).push(i, fs.readlinkSync(p, { encoding: 'latin1' }))
      } catch (e) {
        ;(errors ??= []).push(i, 1, String((e && e.code) || ''), String((e && e.message) || e))
      }
    } else if (X !== null) {
      // the package takes paths as UTF-8 text: a path that is not valid UTF-8 would name another file
      const text = asciiPrefix && !NON_ASCII.test(names[i]) ? prefix + names[i] : isUtf8(p) ? p.toString('utf8') : undefined
      if (text === undefined) {
        ;(xp ??= []).push(i, '', 'its path is not valid UTF-8')
        continue
      }
      let attrs
      try {
        attrs = X.listAttributesSync(text)
      } catch (e) {
        if (!XATTR_IGNORED.includes(errnoOf(e))) (xp ??= []).push(i, '', String((e && e.message) || e))
        continue
      }
      for (let k = 0; k < attrs.length; k++) {
        const v = X.getAttributeSync(text, attrs[k])
        if (v === null) (xp ??= []).push(i, attrs[k], '')
        else (xa ??= []).push(i, attrs[k], v.toString('latin1'))
      }
    }
  }
  parentPort.postMessage({ id, names: names.join('/'), stats, errors, links, x: X !== null, xattrs: xa, xattrProblems: xp }, [stats.buffer])
}
`

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
    return this.failures?.get(i) ?? new PackedStats(this.stats, i * FIELDS)
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

interface Request {
  resolve: (l: DirectoryListing) => void
  reject: (e: unknown) => void
  dir: string
  fallback: DirectoryFallback | undefined
}

interface Answer {
  id: number
  names?: string
  stats?: BigInt64Array
  errors?: Array<number | string>
  links?: Array<number | string>
  /** True if extended attributes were read. */
  x?: boolean
  xattrs?: Array<number | string>
  xattrProblems?: Array<number | string>
  code?: string
  message?: string
}

/**
 * Reads directories on a worker thread: one round trip per directory lists it (names as raw bytes,
 * sorted) and `lstat`s (and `readlink`s, and if asked for reads the extended attributes of) every entry,
 * so that the main thread of a walk only receives compact answers. Many directories may be asked for at once; requests made in the same microtask
 * checkpoint go in one message, and the newest are served first. A listing needed while the worker
 * starts (see {@link DirectoryWorker.hurry}), and every request once the worker has failed, go to the
 * request's fallback. {@link DirectoryWorker.close} ends the worker; walks share one through
 * {@link acquireDirectoryWorker}.
 */
export class DirectoryWorker {
  private readonly worker: Worker
  private readonly requests = new Map<number, Request>()
  private batch: string[] = []
  /** Per directory of {@link DirectoryWorker.batch}: `1` to read the entries' xattrs, else `0`. */
  private batchXattrs = ''
  private batchStart = 0
  private seq = 0
  private closed = false
  private failed = false
  /** Set once the worker runs (it takes tens of milliseconds to start). */
  private online = false
  /** Requests with a fallback made before the worker ran, by their promise (see {@link DirectoryWorker.hurry}). */
  private readonly early = new Map<Promise<DirectoryListing>, number>()

  /**
   * Starts the worker; throws if worker threads are not available.
   * @param testHooks - for tests: `afterReaddir`, the source of a function `(dir, names, fs) => void`
   *   the worker runs between reading a directory and `lstat`ing its entries; `xattrModule`, the path
   *   the worker loads the xattr package from (default: where it resolves from here).
   */
  constructor(testHooks: { afterReaddir?: string; xattrModule?: string } = {}) {
    const workerData = {
      afterReaddir: testHooks.afterReaddir,
      xattr: testHooks.xattrModule ?? nativeXattrsModulePath(),
      xattrIgnored: [...IGNORED_XATTR_ERRNOS],
    }
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
    this.worker.unref()
    this.worker.once('online', () => {
      this.online = true
      this.early.clear()
    })
    this.worker.on('message', (m: Answer) => this.answer(m))
    this.worker.on('error', (e) => this.fail(e))
    this.worker.on('exit', (code) => this.fail(new Error(`directory worker exited with code ${code}`)))
  }

  /** True once the worker has failed or was closed: requests then go to their fallbacks, or fail. */
  get broken(): boolean {
    return this.failed || this.closed
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
    if (this.closed) return Promise.reject(new Error('the directory worker is closed'))
    if (this.failed) return fallback ? fallback(dir) : Promise.reject(new Error('the directory worker failed'))
    const id = this.seq++
    const promise = new Promise<DirectoryListing>((resolve, reject) => {
      this.requests.set(id, { resolve, reject, dir, fallback })
      if (this.batch.length === 0) {
        this.batchStart = id
        queueMicrotask(() => this.flush())
      }
      this.batch.push(dir)
      this.batchXattrs += xattrs ? '1' : '0'
    })
    if (!this.online && fallback) this.early.set(promise, id)
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
    const r = this.requests.get(id)
    if (r?.fallback === undefined) return
    this.requests.delete(id) // the worker's answer will be dropped
    if (this.requests.size === 0) this.worker.unref()
    r.fallback(r.dir).then(r.resolve, r.reject)
  }

  /** Ends the worker; pending requests fail. */
  async close(): Promise<void> {
    this.closed = true
    this.early.clear()
    const pending = [...this.requests.values()]
    this.requests.clear()
    this.batch = []
    this.batchXattrs = ''
    const e = new Error('the directory worker is closed')
    for (const r of pending) r.reject(e)
    await this.worker.terminate()
  }

  private flush(): void {
    const dirs = this.batch
    if (dirs.length === 0 || this.failed || this.closed) return
    const xattrs = this.batchXattrs.includes('1') ? this.batchXattrs : undefined
    this.batch = []
    this.batchXattrs = ''
    if (this.requests.size > 0) this.worker.ref()
    this.worker.postMessage({ id: this.batchStart, dirs: dirs.join('\0'), xattrs })
  }

  private answer(m: Answer): void {
    const r = this.requests.get(m.id)
    if (r === undefined) return
    this.requests.delete(m.id)
    if (this.requests.size === 0) this.worker.unref()
    if (m.names === undefined) r.reject(fsError(m.code ?? '', m.message ?? 'cannot read directory'))
    else {
      const xattrs = m.x ? { values: m.xattrs, problems: m.xattrProblems } : undefined
      r.resolve(new DirectoryListing(m.names === '' ? [] : m.names.split('/'), m.stats!, m.errors, m.links, xattrs))
    }
  }

  private fail(e: Error): void {
    if (this.failed || this.closed) return
    this.failed = true
    this.early.clear()
    const pending = [...this.requests.values()]
    this.requests.clear()
    this.batch = []
    this.batchXattrs = ''
    for (const r of pending) {
      if (r.fallback) r.fallback(r.dir).then(r.resolve, r.reject)
      else r.reject(e)
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
