import { parentPort, workerData, type TransferListItem } from 'node:worker_threads'

/** A worker program's side of its messages: `In` from the pool, `Out` to it, and its `workerData`. */
export interface WorkerPort<In, Out, Data> {
  /** The `workerData` the pool started this worker with (or handed it with its {@link NextProgram} message). */
  readonly data: Data
  /** Sends a message to the pool; `transfer` moves buffers to it. */
  post(message: Out, transfer?: readonly TransferListItem[]): void
  /**
   * Calls `handler` with every message of the pool. With `retire`, the program is reusable: a
   * {@link NextProgram} message ends it (`retire` drops what it holds, no message reaches `handler` after it)
   * and runs that program on this thread, which gets every message sent after it, in order.
   */
  listen(handler: (message: In) => void, retire?: () => void): void
}

/**
 * To a reusable worker program (see {@link WorkerPort.listen}), from the pool that took over its idle thread
 * (`WorkerPoolOptions.threads`): run the worker program at `url` (a `file:` URL) on this thread, with `data` as
 * its `workerData`.
 */
export interface NextProgram {
  nextProgram: { url: string; data: unknown }
}

/** Where a reusable program leaves the next one its `workerData` and messages (the programs are separate bundles). */
const HANDOVER = Symbol.for('rustic-ts.workerHandover')

/** What a reusable program hands the next one: its `workerData`, and its messages. */
interface Handover {
  data: unknown
  listen(handler: (message: unknown) => void): void
}

type Global = { [HANDOVER]?: Handover | undefined }

function isNextProgram(m: unknown): m is NextProgram {
  return typeof m === 'object' && m !== null && 'nextProgram' in m
}

/** `handler`, as a reusable program's (see {@link WorkerPort.listen}): a {@link NextProgram} message hands the thread over. */
function reusable(handler: (message: unknown) => void, retire: () => void): (message: unknown) => void {
  /** The next program's handler, once it listens; the messages until then. */
  let next: ((message: unknown) => void) | undefined
  let queue: unknown[] | undefined
  return (m) => {
    if (next !== undefined) return next(m)
    if (queue !== undefined) return void queue.push(m)
    if (!isNextProgram(m)) return handler(m)
    queue = []
    retire()
    ;(globalThis as Global)[HANDOVER] = {
      data: m.nextProgram.data,
      // (after the program's own top-level code: then the messages it missed, in order, before any new one)
      listen: (h) =>
        queueMicrotask(() => {
          for (const q of queue!) h(q)
          queue = undefined
          next = h
        }),
    }
    // a program that fails to load fails the thread, as it would have failed a new one
    import(m.nextProgram.url).catch((e: unknown) =>
      process.nextTick(() => {
        throw e
      }),
    )
  }
}

/** This worker thread's port to its pool, typed by the worker's protocol. Throws outside a worker thread. */
export function workerPort<In, Out, Data>(): WorkerPort<In, Out, Data> {
  const port = parentPort
  if (port === null) throw new Error('a worker program must run in a worker thread')
  const g = globalThis as Global
  const handover = g[HANDOVER]
  g[HANDOVER] = undefined
  const listen = handover?.listen ?? ((h: (message: unknown) => void) => void port.on('message', h))
  return {
    data: (handover ? handover.data : workerData) as Data,
    post: (message, transfer) => port.postMessage(message, transfer),
    listen: (handler, retire) => {
      const h = handler as (message: unknown) => void
      listen(retire ? reusable(h, retire) : h)
    },
  }
}
