import type { RusticError } from '../error/RusticError.js'
import type { FileReport, SealedReply, SealWorkerIn, SealWorkerOut } from '../workers/seal.protocol.js'
import type { PoolWorker, WorkerPool } from '../workers/WorkerPool.js'
import type { SealedSlots } from './SealedSlots.js'

/** A job on a seal worker that seals blobs. */
export interface BlobsJob {
  kind: 'seal'
  done(m: SealedReply): void
  fail(e: RusticError): void
}

/** A job on a seal worker that stores a file; its expected size counts in the worker's load. */
export interface FileJob {
  kind: 'file'
  done(r: FileReport): void
  fail(e: RusticError): void
  bytes: number
}

/** A job on a seal worker. */
export type SealJob = BlobsJob | FileJob

/** What the seal pool keeps for each worker. */
export interface SealWorkerState {
  /** Where the worker puts the sealed chunks of files, and its answers still out. */
  slots: SealedSlots
  /** Expected bytes of the files handed to this worker and not yet done. */
  fileBytes: number
}

/** One worker of a seal pool. */
export type SealWorker = PoolWorker<SealJob, SealWorkerState>

/** The seal pool's threads. */
export type SealWorkers = WorkerPool<SealWorkerIn, SealWorkerOut, SealJob, SealWorkerState>
