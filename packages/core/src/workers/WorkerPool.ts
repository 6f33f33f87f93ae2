import { setFlagsFromString } from 'node:v8'
import { Worker, type TransferListItem } from 'node:worker_threads'
import { RusticError } from '../error/RusticError.js'
import type { NextProgram } from './workerPort.js'

/** A job handed to a worker of a {@link WorkerPool} and not answered yet. */
export interface PendingJob {
  /** The job cannot be answered: its worker failed, or the pool was closed. */
  fail(error: RusticError): void
}

/** One worker thread of a {@link WorkerPool}: its pending jobs and the state its pool's user keeps for it. */
export interface PoolWorker<Job extends PendingJob, State> {
  /** The thread. */
  readonly thread: Worker
  /** Its position in {@link WorkerPool.workers}. */
  readonly index: number
  /** Jobs sent and not answered yet, by id. */
  readonly jobs: Map<number, Job>
  /** What the pool's user keeps for this worker. */
  readonly state: State
  /** Set once the worker failed or exited. */
  dead: Error | undefined
  /** Set once the worker runs. */
  online: boolean
}

/** How a {@link WorkerPool} starts its workers and hears from them. */
export interface WorkerPoolOptions<Out, Job extends PendingJob, State> {
  /** Names the workers in errors: `a <name> worker failed: ...`, `the <name> pool is closed`. */
  name: string
  /** The worker program (see `workerUrl`). */
  url: URL
  /** Number of worker threads, at most. */
  size: number
  /**
   * Number of workers started at once (default {@link WorkerPoolOptions.size}); {@link WorkerPool.grow} starts
   * the others when they are needed.
   */
  initial?: number
  /** Worker `index`'s `workerData`, and the state the pool's user keeps for it. */
  setup(index: number): { workerData: unknown; state: State }
  /** Every message of a worker. */
  onMessage(worker: PoolWorker<Job, State>, message: Out): void
  /** Called once a worker has failed (its pending jobs have failed already). */
  onFailure?(worker: PoolWorker<Job, State>, error: Error): void
  /** Called once a worker runs. */
  onOnline?(worker: PoolWorker<Job, State>): void
  /** True while a worker without pending jobs still has work out (it then keeps the process alive). */
  busy?(worker: PoolWorker<Job, State>): boolean
  /**
   * Start the workers with the global `gc()` (V8's `--expose-gc`, which cannot be given to a worker alone:
   * it is set for the process while they start, then unset unless the process has it itself).
   */
  exposeGc?: boolean
  /**
   * Idle threads of a reusable worker program (see `WorkerPort.listen`; {@link WorkerPool.release} gives them
   * out) on which to run this pool's first workers instead of starting new threads: each is sent a `NextProgram`
   * message with its `workerData` at once and belongs to this pool from then on. Saves a thread's start (Node's
   * bootstrap of a worker: ~35 ms of CPU). {@link WorkerPoolOptions.exposeGc} does not reach them. Threads beyond
   * {@link WorkerPoolOptions.size} are left alone.
   */
  threads?: readonly Worker[]
}

/**
 * Worker threads running one worker program, with typed messages both ways (`In` to the workers,
 * `Out` from them): starts them, keeps each one's pending jobs by id, picks the least busy, keeps the
 * process alive only while a worker has work out, fails every pending job of a worker that dies, runs a
 * start-up self-test and shuts them down. What a message means is the pool user's business
 * ({@link WorkerPoolOptions.onMessage} settles jobs with {@link WorkerPool.take}).
 */
export class WorkerPool<In, Out, Job extends PendingJob = PendingJob, State = undefined> {
  private readonly workerList: Array<PoolWorker<Job, State>> = []
  /** Workers started by {@link WorkerPool.grow} and not tested yet. */
  private readonly growing = new Set<PoolWorker<Job, State>>()
  /** Workers started with `--expose-gc` set and not running yet. */
  private starting = 0
  private seq = 0
  private isClosed = false
  /** Takes off the listeners this pool put on each worker's thread (see {@link WorkerPool.release}). */
  private readonly unlisten = new Map<PoolWorker<Job, State>, () => void>()
  /** Workers given out by {@link WorkerPool.release}. */
  private readonly released = new Set<PoolWorker<Job, State>>()

  /** Starts the first workers (they run once their program is loaded; messages posted before wait for it). */
  constructor(private readonly options: WorkerPoolOptions<Out, Job, State>) {
    const initial = Math.min(options.size, options.initial ?? options.size)
    for (let index = 0; index < initial; index++) this.workerList.push(this.spawn(index))
  }

  /**
   * Starts one more worker while the pool has fewer than {@link WorkerPoolOptions.size} (see
   * {@link WorkerPoolOptions.initial}) and is open: it joins {@link WorkerPool.workers} once `test` (run on it
   * first, as {@link WorkerPool.selfTest} runs it) has passed, and is returned; else it is ended and undefined
   * is returned (also when the pool is full or closed, or closes meanwhile).
   */
  async grow(test?: (w: PoolWorker<Job, State>) => Promise<void>): Promise<PoolWorker<Job, State> | undefined> {
    if (this.isClosed || this.workerList.length + this.growing.size >= this.options.size) return undefined
    let w: PoolWorker<Job, State>
    try {
      w = this.spawn(this.workerList.length + this.growing.size)
    } catch {
      return undefined
    }
    this.growing.add(w)
    let passed = true
    try {
      await test?.(w)
    } catch {
      passed = false
    }
    this.growing.delete(w)
    if (!passed || this.isClosed || w.dead) {
      const jobs = [...w.jobs.values()]
      w.jobs.clear()
      for (const job of jobs) job.fail(this.closedError())
      this.unlisten.get(w)?.()
      this.unlisten.delete(w)
      w.thread.on('error', () => {})
      await w.thread.terminate()
      return undefined
    }
    this.workerList.push(w)
    return w
  }

  /** Starts worker `index` (or runs this pool's program on a given thread, see {@link WorkerPoolOptions.threads}). */
  private spawn(index: number): PoolWorker<Job, State> {
    const options = this.options
    // `gc` is given to the contexts made while the flag is set: the workers' once they run
    const toggleGc = options.exposeGc === true && typeof globalThis.gc !== 'function'
    if (toggleGc && this.starting++ === 0) setFlagsFromString('--expose-gc')
    let once = false
    const started = (): void => {
      if (once) return
      once = true
      if (toggleGc && --this.starting === 0) setFlagsFromString('--no-expose-gc')
    }
    const { workerData, state } = options.setup(index)
    // (a thread that has ended since it was given up is replaced by a new one)
    const given = options.threads?.[index]
    const adopted = given !== undefined && given.threadId >= 0 ? given : undefined
    if (given !== undefined && adopted === undefined) void given.terminate()
    let thread: Worker
    try {
      thread = adopted ?? new Worker(options.url, { workerData })
    } catch (e) {
      // no worker threads here: nothing is left running, and the process gets its flags back
      started()
      for (const w of this.workerList) void w.thread.terminate()
      throw e
    }
    const w: PoolWorker<Job, State> = { thread, index, jobs: new Map(), state, dead: undefined, online: adopted !== undefined }
    const onOnline = (): void => {
      if (w.online) return
      w.online = true
      started()
      options.onOnline?.(w)
    }
    const onMessage = (m: Out): void => options.onMessage(w, m)
    const onError = (e: Error): void => this.fail(w, e)
    const onExit = (code: number): void => {
      started()
      this.fail(w, new Error(`${options.name} worker exited with code ${code}`))
    }
    if (adopted) {
      // (it runs already; the messages posted after this one reach the program it is told to run)
      started()
      adopted.postMessage({ nextProgram: { url: options.url.href, data: workerData } } satisfies NextProgram)
      if (options.onOnline) queueMicrotask(() => options.onOnline!(w))
    } else {
      thread.once('online', onOnline)
    }
    thread.on('message', onMessage)
    thread.on('error', onError)
    thread.on('exit', onExit)
    this.unlisten.set(w, () => {
      thread.off('online', onOnline)
      thread.off('message', onMessage)
      thread.off('error', onError)
      thread.off('exit', onExit)
    })
    // an idle worker does not keep the process alive (after the listeners: adding a 'message' listener refs it again)
    thread.unref()
    return w
  }

  /** The workers, in start order (those {@link WorkerPool.grow} added last). */
  get workers(): ReadonlyArray<PoolWorker<Job, State>> {
    return this.workerList
  }

  /** Number of worker threads (so far: see {@link WorkerPool.grow}). */
  get size(): number {
    return this.workerList.length
  }

  /** True once {@link WorkerPool.close} was called. */
  get closed(): boolean {
    return this.isClosed
  }

  /** Jobs sent and not answered yet, on all workers. */
  get pending(): number {
    let n = 0
    for (const w of this.workers) n += w.jobs.size
    return n
  }

  /** The first failure of a worker, if any has failed (a worker given up is none). */
  get failure(): Error | undefined {
    return this.workers.find((w) => w.dead && !this.released.has(w))?.dead
  }

  /** The live worker with the fewest pending jobs (a dead one if all are: sending to it fails the job). */
  leastBusy(): PoolWorker<Job, State> {
    let best: PoolWorker<Job, State> | undefined
    for (const w of this.workers) if (!w.dead && (!best || w.jobs.size < best.jobs.size)) best = w
    return best ?? this.workers[0]!
  }

  /**
   * Records `job` as pending on `w` and returns its id; the caller sends the message that carries the id
   * (several jobs may go in one message). A closed pool or a dead worker fails the job at once (and
   * returns -1).
   */
  add(w: PoolWorker<Job, State>, job: Job): number {
    if (this.isClosed) {
      job.fail(this.closedError())
      return -1
    }
    if (w.dead) {
      job.fail(this.failedError(w.dead))
      return -1
    }
    const id = this.seq++
    w.jobs.set(id, job)
    this.updateRef(w)
    return id
  }

  /** Records `job` on `w` and sends it the message made with the job's id; `transfer` moves buffers to the worker. */
  request(w: PoolWorker<Job, State>, job: Job, message: (id: number) => In, transfer?: readonly TransferListItem[]): void {
    const id = this.add(w, job)
    if (id >= 0) w.thread.postMessage(message(id), transfer)
  }

  /** Sends a message that is no job (an answer to a worker's question, a buffer given back). */
  post(w: PoolWorker<Job, State>, message: In, transfer?: readonly TransferListItem[]): void {
    if (!w.dead && !this.isClosed) w.thread.postMessage(message, transfer)
  }

  /** Takes job `id` off `w`'s pending jobs (when it is answered, or given up); undefined if it is not pending. */
  take(w: PoolWorker<Job, State>, id: number): Job | undefined {
    const job = w.jobs.get(id)
    if (job === undefined) return undefined
    w.jobs.delete(id)
    this.updateRef(w)
    return job
  }

  /** Keeps the process alive while `w` has pending jobs or is {@link WorkerPoolOptions.busy}; call when that changes. */
  updateRef(w: PoolWorker<Job, State>): void {
    if (w.jobs.size > 0 || this.options.busy?.(w)) w.thread.ref()
    else w.thread.unref()
  }

  /**
   * Runs `test` on every worker (at once); true if it passed on all, else the pool is closed. Used at start
   * so that a worker that cannot do its job is found before any real work is given to it.
   */
  async selfTest(test: (w: PoolWorker<Job, State>) => Promise<void>): Promise<boolean> {
    const results = await Promise.allSettled(this.workers.map((w) => test(w)))
    if (results.every((r) => r.status === 'fulfilled')) return true
    await this.close()
    return false
  }

  /**
   * Gives up worker `w`'s thread without ending it, for another pool to run its program on
   * ({@link WorkerPoolOptions.threads}; its program must be reusable, see `WorkerPort.listen`): this pool stops
   * listening to it and counts it as gone (a job sent to it fails). `undefined` if `w` is dead, has pending jobs or
   * the pool is closed. The thread does not keep the process alive; whoever takes it ends it.
   */
  release(w: PoolWorker<Job, State>): Worker | undefined {
    if (this.isClosed || w.dead || w.jobs.size > 0 || this.released.has(w)) return undefined
    this.unlisten.get(w)?.()
    this.unlisten.delete(w)
    // (an error of the idle thread before another pool takes it must not be an unhandled 'error' event)
    w.thread.on('error', () => {})
    this.released.add(w)
    w.dead = new Error(`${this.options.name} worker was given up`)
    w.thread.unref()
    return w.thread
  }

  /** Ends the workers (not those given up by {@link WorkerPool.release}); pending jobs fail. */
  async close(): Promise<void> {
    if (this.isClosed) return
    this.isClosed = true
    const error = this.closedError()
    for (const w of [...this.workers, ...this.growing]) {
      const jobs = [...w.jobs.values()]
      w.jobs.clear()
      for (const job of jobs) job.fail(error)
    }
    const starting = [...this.growing].map((w) => w.thread.terminate())
    await Promise.all([...starting, ...this.workers.filter((w) => !this.released.has(w)).map((w) => w.thread.terminate())])
  }

  /** The error of a job on a worker that failed with `cause`. */
  failedError(cause: Error): RusticError {
    return new RusticError('Internal', `a ${this.options.name} worker failed: ${cause.message}`, { cause })
  }

  /** The error of a job given to the closed pool. */
  closedError(): RusticError {
    return new RusticError('Internal', `the ${this.options.name} pool is closed`)
  }

  private fail(w: PoolWorker<Job, State>, cause: Error): void {
    if (w.dead || this.isClosed) return
    w.dead = cause
    const error = this.failedError(cause)
    const jobs = [...w.jobs.values()]
    w.jobs.clear()
    w.thread.unref()
    for (const job of jobs) job.fail(error)
    this.options.onFailure?.(w, cause)
  }
}
