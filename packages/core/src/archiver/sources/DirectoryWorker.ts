import type { RusticError } from '../../error/RusticError.js'
import { nativeXattrsModulePath } from '../../util/nativeXattrs.js'
import type { DirectoryWorkerData, ListReply, ListRequest } from '../../workers/directory.protocol.js'
import { workerUrl } from '../../workers/workerUrl.js'
import { WorkerPool, type PendingJob } from '../../workers/WorkerPool.js'
import { DirectoryListing, fsError } from './DirectoryListing.js'

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
  /** Likewise, `1` to check the entries of size 0 for emptiness. */
  private batchEmpty = ''
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
        this.batchEmpty = ''
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
   * @param checkEmpty - also check whether each regular file of size 0 is still empty (see
   *   {@link DirectoryListing.emptyFile}).
   */
  list(dir: string, fallback?: DirectoryFallback, xattrs = false, checkEmpty = false): Promise<DirectoryListing> {
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
      this.batchEmpty += checkEmpty ? '1' : '0'
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
    this.batchEmpty = ''
    await this.pool.close()
  }

  private flush(): void {
    const dirs = this.batch
    if (dirs.length === 0) return
    const xattrs = this.batchXattrs.includes('1') ? this.batchXattrs : undefined
    const empty = this.batchEmpty.includes('1') ? this.batchEmpty : undefined
    this.batch = []
    this.batchXattrs = ''
    this.batchEmpty = ''
    this.pool.post(this.pool.workers[0]!, { id: this.batchStart, dirs: dirs.join('\0'), xattrs, empty })
  }

  private answer(m: ListReply): void {
    const r = this.pool.take(this.pool.workers[0]!, m.id)
    if (r === undefined) return
    if (!('names' in m)) r.reject(fsError(m.code, m.message))
    else {
      const xattrs = m.x ? { values: m.xattrs, problems: m.xattrProblems } : undefined
      r.resolve(new DirectoryListing(m.names === '' ? [] : m.names.split('/'), m.stats, m.errors, m.links, xattrs, m.empty))
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

/**
 * Starts the shared directory worker ahead of a walk (see {@link acquireDirectoryWorker}), so that it is
 * running when the walk begins instead of starting with it: a program that will walk local paths calls this
 * before its other preparations (loading the index; after the key derivation, whose memory would add to the
 * worker's in the peak RSS). Returns the function that gives it back (the walk holds it meanwhile). Does nothing
 * where worker threads are not available.
 */
export function prestartDirectoryWorker(): () => void {
  let worker: DirectoryWorker
  try {
    worker = acquireDirectoryWorker()
  } catch {
    return () => {}
  }
  let released = false
  return () => {
    if (released) return
    released = true
    releaseDirectoryWorker(worker)
  }
}
