import { closeSync, constants, ftruncateSync, openSync } from 'node:fs'
import { setImmediate as nextTick } from 'node:timers/promises'
import { isRepositoryDamage } from '../../error/repositoryDamage.js'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import { hashId } from '../../id/Id.js'
import { backendLayers } from '../check/backendLayers.js'
import { zstdBuffers } from '../../compression/Zstd.js'
import { freeBuffer } from '../../workers/freeBuffer.js'
import { RangeRestorer } from '../../workers/RangeRestorer.js'
import type { RestoreBlob, RestoreRequest } from '../../workers/restore.protocol.js'
import type { Id } from '../../id/Id.js'
import type { FileWriter } from './FileWriter.js'
import type { PlannedFiles } from './PlannedFiles.js'
import { restoreIoError } from './restoreIoError.js'
import type { PackRead, PlannedBlob } from './RestorePlan.js'
import { ReadBuffers } from './ReadBuffers.js'
import { sodiumPoly1305 } from '../../crypto/Poly1305.js'
import { poolResult, RestorePool, type PoolResult } from './RestorePool.js'
import type { RestoreRun } from './RestoreRun.js'
import type { RestoreWorkers } from './RestoreWorkers.js'

/** Sealed bytes the main thread opens and writes at a time when it works on a range (see `writeContentsOnWorkers`). */
const HERE_STEP = 1 << 20

/**
 * Most bytes a thread reads from a local pack file at a time (a larger blob is read whole): each thread keeps
 * a buffer this large (or as large as the largest blob it read) for its whole run, so it is peak memory, while
 * reading 4 MiB at a time from a file costs no more per byte than 8 MiB (`readMemory / threads` before: 8 MiB
 * on 2 cores).
 */
const LOCAL_WINDOW = 4 << 20

/** Pack data to read per worker started (a restore of less starts one). */
const WORKER_BYTES = 16 << 20

/**
 * Reads the planned pack ranges (bounded) and writes every blob into its places, on worker threads when
 * they start (`RestorePool`), else on this thread through `writer`.
 *
 * Damage in the repository (see `isRepositoryDamage`: a pack missing or shorter than the index says, a
 * blob failing its MAC, decompression or hash check) spoils only the blobs it hits: a range that cannot
 * be read is read again blob by blob, a blob that does not open is skipped, and the files of the blobs
 * lost are recorded ({@link RestoreRun.damage}); everything else is restored. Other errors stop the restore.
 */
export async function writeContents(run: RestoreRun, writer: FileWriter, workers = startWorkers(run)): Promise<void> {
  if (run.plan.reads.length === 0) return
  const threads = restoreThreads(run)
  // with this thread as one of them, it starts on the ranges at once; the workers join when they are up
  const zstd = threads > 1 && sodiumPoly1305() !== undefined ? zstdBuffers() : undefined
  if (zstd) {
    try {
      await writeContentsOnWorkers(run, workers, threads, new RangeRestorer(run.indexed.repo.key, zstd))
    } finally {
      await workers.then((w) => w?.pool.close()).catch(() => {})
    }
    return
  }
  const started = await workers
  if (!started) return writeContentsHere(run, writer)
  try {
    await writeContentsOnWorkers(run, workers, threads, undefined)
  } finally {
    await started.pool.close()
  }
}

/** Threads that open and write blobs for `run`, this one included when there are two or more; 0: none (all here, without workers). */
function restoreThreads(run: RestoreRun): number {
  // no more workers than reads in flight (the others would idle, each holding an isolate's memory), nor
  // than WORKER_BYTES of pack data each keeps busy: starting an isolate costs more than it saves on a small restore
  const perData = Math.max(1, Math.ceil(run.plan.stats.bytesToRead / WORKER_BYTES))
  return Math.min(run.opts.workers, run.opts.readConcurrency, perData)
}

/**
 * The worker threads for `threads` threads that open and write blobs (see `restoreThreads`): with room for two
 * or more, this thread is one of them (it has little else to do while the workers write, and an isolate less is
 * ~20 MiB less); one for one; none for none.
 */
export function restorePoolSize(threads: number): number {
  return threads <= 0 ? 0 : threads > 1 ? threads - 1 : 1
}

/**
 * Starts the worker threads that {@link writeContents} will use for `run` (none for a restore without reads,
 * or with `workers: 0`, or where they cannot load): `restore` starts them before it creates the directories,
 * so that their start-up (an isolate each, a self-test) overlaps that work. Whoever starts them closes them
 * (`writeContents` does, or `pool.close()` if it never runs). Workers started `ahead` (see
 * {@link RestoreWorkers}) are used when they are as many as the plan wants, else closed.
 */
export function startWorkers(run: RestoreRun, ahead?: RestoreWorkers): Promise<{ pool: RestorePool; threads: number } | undefined> {
  const threads = run.plan.reads.length === 0 ? 0 : restoreThreads(run)
  const size = restorePoolSize(threads)
  // workers started ahead of the plan, if they are what this plan wants (else they end now)
  const taken = ahead?.take(run.indexed.repo, size)
  if (taken === undefined) void ahead?.close().catch(() => {})
  if (size === 0) return Promise.resolve(undefined)
  const started = (taken ?? RestorePool.start(run.indexed.repo.key, size)).then((pool) => (pool ? { pool, threads } : undefined))
  started.catch(() => {}) // (awaited later, by writeContents: not an unhandled rejection meanwhile)
  return started
}

/** The (empty) data of a job that reads its range itself. */
const EMPTY = new Uint8Array(0)

/** A read of one blob of `r`. */
function blobRead(r: PackRead, b: PlannedBlob): PackRead {
  return { packId: r.packId, offset: b.offset, length: b.length, blobs: [b] }
}

/**
 * Does something with the sealed range `data` of read `r`. `pooled`: `data` is a view of a (shared) buffer
 * of `buffers`, to be read into again once the promise settles.
 */
type UseRead = (r: PackRead, data: Uint8Array, pooled: boolean) => Promise<void>

/**
 * Reads the range of `r` (into a buffer of `buffers` when the backend can); when the repository's copy is
 * damaged (missing, cut short), reads its blobs one by one instead (handing each read to `use`), and
 * records a blob that cannot be read as damaged.
 */
async function readContained(run: RestoreRun, r: PackRead, signal: AbortSignal, buffers: ReadBuffers, use: UseRead): Promise<void> {
  throwIfAborted(signal)
  const into = buffers.take(r.length)
  let data: Uint8Array
  try {
    data = await run.indexed.repo.backend.readPartial('pack', r.packId, false, r.offset, r.length, { signal, into })
  } catch (e) {
    if (into) buffers.give(into.buffer)
    if (!isRepositoryDamage(e) || signal.aborted) throw e
    if (r.blobs.length === 1) return run.damage(r.blobs[0]!, e)
    for (const b of r.blobs) await readContained(run, blobRead(r, b), signal, buffers, use)
    return
  }
  const pooled = into !== undefined && data.buffer === into.buffer && data.byteOffset === 0
  if (into && !pooled) buffers.give(into.buffer) // (the backend read into a buffer of its own)
  run.stats.bytesRead += data.length
  try {
    await use(r, data, pooled)
  } finally {
    if (pooled) buffers.give(into!.buffer)
    else freeBuffer(data) // (already detached when it went to a worker)
  }
}

/** By file: the blob writes not done yet. */
function writesLeft(files: PlannedFiles): Uint32Array {
  const left = new Uint32Array(files.length)
  for (let i = 0; i < files.length; i++) left[i] = files.writes(i)
  return left
}

function allZero(b: Uint8Array): boolean {
  // compare 8 bytes at a time where aligned
  const n = b.byteLength
  let i = 0
  if (b.byteOffset % 8 === 0) {
    const w = new BigUint64Array(b.buffer, b.byteOffset, n >>> 3)
    for (; i < w.length; i++) if (w[i] !== 0n) return false
    i <<= 3
  }
  for (; i < n; i++) if (b[i] !== 0) return false
  return true
}

/**
 * Runs the reads in plan order, bounded in number (`readConcurrency`) and in bytes (`readMemory`: a read
 * starts only when its range fits in what the reads under way leave of it, or when none is under way), so
 * that the pack data held at once does not depend on the size of the snapshot; the first failure stops the rest.
 */
async function runReads(
  run: RestoreRun,
  inner: AbortController,
  doRead: (read: number) => Promise<void>,
  limits: { concurrency: number; memory: number } = { concurrency: run.opts.readConcurrency, memory: run.opts.readMemory },
): Promise<void> {
  const signal = run.signal
  const onAbort = (): void => inner.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort)
  const { concurrency: readConcurrency, memory: readMemory } = limits
  let running = 0
  let bytes = 0
  let first: unknown
  let wake: (() => void) | undefined
  const under = new Set<Promise<void>>()
  try {
    const reads = run.plan.reads
    for (let i = 0; i < reads.length; i++) {
      // (by index: a caller makes the read's objects only if it needs them, and none is kept while it runs)
      const length = reads.rangeLength(i)
      while (first === undefined && running > 0 && (running >= readConcurrency || bytes + length > readMemory)) {
        await new Promise<void>((resolve) => (wake = resolve))
      }
      if (first !== undefined) break
      running++
      bytes += length
      const p: Promise<void> = doRead(i)
        .catch((e: unknown) => {
          if (first === undefined) {
            first = e
            inner.abort(e) // the reads under way see the aborted signal and stop at once
          }
        })
        .finally(() => {
          running--
          bytes -= length
          under.delete(p)
          const w = wake
          wake = undefined
          w?.()
        })
      under.add(p)
    }
    await Promise.all(under)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  if (first !== undefined) {
    // report the caller's abort as such, not as the backend's reaction to it
    throwIfAborted(signal)
    throw first
  }
}

/** Warms up the packs of the plan (cold storage), when the repository was opened to do so. */
async function warmUp(run: RestoreRun, signal: AbortSignal): Promise<void> {
  const reads = run.plan.reads
  const packs = new Set<Id>()
  for (let r = 0; r < reads.length; r++) packs.add(reads.packId(r))
  await run.indexed.repo.warmUpPacks([...packs], { signal })
}

/**
 * The worker-thread variant: the main thread reads pack ranges, the workers open blobs and write them; with
 * `here`, the main thread does a range itself when every worker has one.
 */
async function writeContentsOnWorkers(
  run: RestoreRun,
  workers: ReturnType<typeof startWorkers>,
  threads: number,
  here: RangeRestorer | undefined,
): Promise<void> {
  const { plan, opts, stats } = run
  // the workers, once started (until then, and for good if they cannot start, `here` does every range)
  let pool: RestorePool | undefined
  const ready = workers.then((w) => {
    pool = w?.pool
  })
  const inner = new AbortController()
  const signal = inner.signal
  const files = plan.files
  const left = writesLeft(plan.files)
  const bytes = run.progress('bytes', 'restoring file contents')
  bytes.setLength(plan.stats.bytesToWrite)
  const buffers = new ReadBuffers(opts.readMemory)
  try {
    await warmUp(run, signal)
    // Files not created by their single write are created (or truncated) to their size first; the
    // workers then only open them for writing.
    const single = new Uint8Array(files.length)
    if (!opts.sparse) for (let i = 0; i < files.length; i++) single[i] = files.create(i) && files.writes(i) === 1 ? 1 : 0
    for (let i = 0; i < files.length; i++) {
      const writes = files.writes(i)
      if (writes === 0 || single[i]) continue
      if (i % 1024 === 0) await nextTick()
      throwIfAborted(run.signal)
      const path = plan.entries.fsPath(files.entry(i))
      try {
        const flags = constants.O_WRONLY | constants.O_NOFOLLOW | (files.create(i) ? constants.O_CREAT | constants.O_TRUNC : 0)
        const fd = openSync(path, flags, 0o600)
        try {
          ftruncateSync(fd, files.size(i))
        } finally {
          closeSync(fd)
        }
      } catch (e) {
        throw restoreIoError(e, 'write', path)
      }
    }
    const account = (written: number, writtenFiles: number[], done: number[]): void => {
      stats.bytesWritten += written
      bytes.inc(written)
      for (const f of writtenFiles) if (--left[f]! === 0) run.fileDone()
      for (const f of done) {
        run.metaDone[files.entry(f)] = 1
        stats.metadataSet++
      }
    }
    // one range at a time here, in steps of HERE_STEP bytes: between them this thread hands finished
    // reads to the workers and starts new reads, so that they do not wait for it
    let hereBusy = false
    const hereFree: Array<() => void> = []
    const restoreHere = async (restorer: RangeRestorer, m: RestoreRequest): Promise<PoolResult> => {
      hereBusy = true
      try {
        const reply = RangeRestorer.reply(m)
        for (let i = 0; i < m.blobs.length; ) {
          throwIfAborted(signal)
          i = restorer.step(m, reply, i, HERE_STEP)
          if (i < m.blobs.length) await nextTick()
        }
        return poolResult(reply)
      } finally {
        hereBusy = false
        hereFree.shift()?.()
      }
    }
    // a range is done on this thread when every worker has one (and this thread none); else it goes to the least
    // busy worker. (Not async: the job's blobs and targets are made here and are garbage once a worker has them,
    // instead of living on in the frame of an async function that awaits the result, long enough to be promoted.)
    const target = (file: number, offset: number): RestoreBlob['targets'][number] => {
      const entry = files.entry(file)
      const one = single[file] === 1
      return {
        file,
        path: plan.entries.fsPath(entry),
        offset,
        create: one,
        skipZero: opts.sparse && files.create(file),
        meta: one && !plan.entries.hasXattrs(entry) ? run.meta.fileMetadata(plan.entries.meta(entry)) : undefined,
      }
    }
    const send = (r: PackRead, data: Uint8Array, pooled: boolean): Promise<PoolResult> => {
      const blobs: RestoreBlob[] = r.blobs.map((b) => ({
        id: b.id,
        start: b.offset - r.offset,
        length: b.length,
        uncompressedLength: b.uncompressedLength,
        dataLength: b.dataLength,
        targets: b.targets.map((t) => target(t.file, t.offset)),
      }))
      return route({ id: 0, data, shared: pooled, blobs, verify: opts.verifyBlobs, what: `pack ${r.packId}` })
    }
    // a local read straight from the plan's arrays (no `PackRead`, which would live as long as the job)
    const reads = plan.reads
    const sendLocal = (i: number, file: NonNullable<RestoreRequest['file']>): Promise<PoolResult> => {
      const start = reads.offset(i)
      const blobs: RestoreBlob[] = []
      for (let b = reads.firstBlob(i); b < reads.firstBlob(i + 1); b++) {
        const targets: RestoreBlob['targets'] = []
        for (let t = reads.firstTarget(b); t < reads.firstTarget(b + 1); t++) targets.push(target(reads.targetFile(t), reads.targetOffset(t)))
        blobs.push({
          id: reads.blobId(b),
          start: reads.blobOffset(b) - start,
          length: reads.blobLength(b),
          uncompressedLength: reads.uncompressedLength(b),
          dataLength: reads.dataLength(b),
          targets,
        })
      }
      return route({ id: 0, data: EMPTY, shared: false, blobs, verify: opts.verifyBlobs, what: `pack ${reads.packId(i)}`, file })
    }
    const route = (m: RestoreRequest): Promise<PoolResult> => {
      if (here !== undefined && !hereBusy && (pool === undefined || pool.allBusy)) return restoreHere(here, m)
      if (pool !== undefined) return pool.run(m.data, m.blobs, m.verify, m.what, m.shared, m.file)
      return later(m)
    }
    // a range that came while this thread is busy and the workers are not up yet: to the first of them
    // when they are, else to this thread once it is free
    const later = async (m: RestoreRequest): Promise<PoolResult> => {
      await ready
      if (pool !== undefined) return pool.run(m.data, m.blobs, m.verify, m.what, m.shared, m.file)
      while (hereBusy) await new Promise<void>((resolve) => hereFree.push(resolve))
      return restoreHere(here!, m)
    }
    /** Counts what a job did; `blob(k)`: its blob `k`, for the damage it reports. */
    const settle = (res: PoolResult, blob: (k: number) => PlannedBlob): PoolResult => {
      stats.bytesRead += res.read
      account(res.written, res.files, res.metaDone)
      for (const d of res.damaged) run.damage(blob(d.blob), d.error)
      if (res.error) throw res.error
      return res
    }
    const restoreRead = async (r: PackRead, data: Uint8Array, pooled: boolean): Promise<void> => {
      settle(await send(r, data, pooled), (k) => r.blobs[k]!)
    }
    // Local pack files (`localPath`): the thread that does a range reads it itself, `window` bytes at most at
    // a time (readMemory shared between the threads); nothing is read ahead on this thread, so ranges can be
    // queued without holding memory: each worker gets its next one while it works on one, instead of
    // waiting for this thread (between two of its own steps) to read and hand it over.
    // (the repository's own files, under the composed backend's cache and guards: what `readPartial` of a pack reads)
    const backend = backendLayers(run.indexed.repo.backend).packs
    const window = Math.max(1, Math.min(LOCAL_WINDOW, Math.floor(opts.readMemory / threads)))
    const readLocal =
      typeof backend.localPath === 'function'
        ? async (i: number): Promise<void> => {
            throwIfAborted(signal)
            const path = await backend.localPath!('pack', reads.packId(i), { signal }).catch(() => undefined)
            if (path === undefined) return readContained(run, reads.at(i), signal, buffers, restoreRead)
            const blob0 = reads.firstBlob(i)
            const res = settle(await sendLocal(i, { path, offset: reads.offset(i), length: reads.rangeLength(i), window }), (k) => reads.blob(blob0 + k))
            if (res.unreadFrom !== undefined) {
              // what the file cannot give (cut short, missing): through the backend, which reports the damage
              const r = reads.at(i)
              const rest = r.blobs.slice(res.unreadFrom)
              const first = rest[0]!
              const last = rest[rest.length - 1]!
              const offset = first.offset
              await readContained(run, { packId: r.packId, offset, length: last.offset + last.length - offset, blobs: rest }, signal, buffers, restoreRead)
            }
          }
        : undefined
    if (readLocal) {
      // ranges out at once: one at work and one queued per worker, one on this thread
      const workerThreads = here ? threads - 1 : threads
      await runReads(run, inner, readLocal, { concurrency: Math.min(opts.readConcurrency, 2 * workerThreads + (here ? 1 : 0)), memory: Infinity })
    } else {
      await runReads(run, inner, (i) => readContained(run, plan.reads.at(i), signal, buffers, restoreRead))
    }
  } finally {
    buffers.clear()
    bytes.finish()
  }
}

/** The main-thread variant: reads pack ranges, opens blobs and writes them here. */
async function writeContentsHere(run: RestoreRun, writer: FileWriter): Promise<void> {
  const { plan, opts, stats } = run
  const repo = run.indexed.repo
  const inner = new AbortController()
  const signal = inner.signal
  const left = writesLeft(plan.files)
  const bytes = run.progress('bytes', 'restoring file contents')
  bytes.setLength(plan.stats.bytesToWrite)

  // writes in flight across all reads, bounded in number and bytes; a read waits when the window is full
  let inFlight = 0
  let inFlightBytes = 0
  const maxInFlightBytes = Math.max(opts.maxReadSize, opts.readMemory)
  const waiters: Array<() => void> = []
  const release = (n: number): void => {
    inFlight--
    inFlightBytes -= n
    while (waiters.length > 0 && inFlight < opts.fileConcurrency && inFlightBytes < maxInFlightBytes) waiters.shift()!()
  }
  const room = async (): Promise<void> => {
    while (inFlight >= opts.fileConcurrency || inFlightBytes >= maxInFlightBytes) await new Promise<void>((r) => waiters.push(r))
  }

  /** A blob's plaintext, checked; undefined (and the blob recorded as damaged) when its data is damaged. */
  const open = (r: PackRead, data: Uint8Array, b: PlannedBlob): Uint8Array | undefined => {
    const start = b.offset - r.offset
    const what = `data blob ${b.id} in pack ${r.packId}`
    try {
      const plain = repo.dbe.openBlob(data.subarray(start, start + b.length), b.uncompressedLength, what)
      if (opts.verifyBlobs && hashId(plain) !== b.id) {
        throw new RusticError('Verification', `${what} is corrupted: its content does not hash to its id`, { code: 'IntegrityError' })
      }
      if (plain.length !== b.dataLength) {
        throw new RusticError('Verification', `${what} has ${plain.length} bytes, the index says ${b.dataLength}`, { code: 'IntegrityError' })
      }
      return plain
    } catch (e) {
      if (!isRepositoryDamage(e)) throw e
      run.damage(b, e)
      return undefined
    }
  }

  const writeRead = async (r: PackRead, data: Uint8Array): Promise<void> => {
    const writes: Array<Promise<void>> = []
    let failed: unknown
    for (const b of r.blobs) {
      throwIfAborted(signal)
      if (failed !== undefined) break
      const plain = open(r, data, b)
      if (plain === undefined) continue
      const zero = opts.sparse && allZero(plain)
      for (const t of b.targets) {
        await room()
        inFlight++
        inFlightBytes += plain.length
        writes.push(
          writer
            .write(t.file, plain, t.offset, zero && plan.files.create(t.file))
            .then(
              () => {
                stats.bytesWritten += plain.length
                bytes.inc(plain.length)
                if (--left[t.file]! === 0) run.fileDone()
              },
              (e: unknown) => {
                failed ??= restoreIoError(e, 'write', plan.entries.fsPath(plan.files.entry(t.file)))
              },
            )
            .finally(() => release(plain.length)),
        )
      }
    }
    await Promise.all(writes) // (every write of `data`'s blobs done: its buffer can be read into again)
    if (failed !== undefined) throw failed
  }

  const buffers = new ReadBuffers(opts.readMemory)
  try {
    await warmUp(run, signal)
    await runReads(run, inner, (i) => readContained(run, plan.reads.at(i), signal, buffers, writeRead))
  } finally {
    buffers.clear()
    bytes.finish()
  }
}
