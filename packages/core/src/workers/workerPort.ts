import { parentPort, workerData, type TransferListItem } from 'node:worker_threads'

/** A worker program's side of its messages: `In` from the pool, `Out` to it, and its `workerData`. */
export interface WorkerPort<In, Out, Data> {
  /** The `workerData` the pool started this worker with. */
  readonly data: Data
  /** Sends a message to the pool; `transfer` moves buffers to it. */
  post(message: Out, transfer?: readonly TransferListItem[]): void
  /** Calls `handler` with every message of the pool. */
  listen(handler: (message: In) => void): void
}

/** This worker thread's port to its pool, typed by the worker's protocol. Throws outside a worker thread. */
export function workerPort<In, Out, Data>(): WorkerPort<In, Out, Data> {
  const port = parentPort
  if (port === null) throw new Error('a worker program must run in a worker thread')
  const data: Data = workerData
  return {
    data,
    post: (message, transfer) => port.postMessage(message, transfer),
    listen: (handler) => void port.on('message', handler),
  }
}
