import { closeSync, constants, ftruncateSync, openSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { setImmediate as nextTick } from 'node:timers/promises'
import pLimit from 'p-limit'
import { RusticError, throwIfAborted } from '../../error/RusticError.js'
import { hashId } from '../../id/Id.js'
import { noProgress } from '../../progress/Progress.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { displayPath, type FsPath } from './fsPath.js'
import { FileWriter } from './FileWriter.js'
import { MetadataWriter } from './MetadataWriter.js'
import { RestorePool, type PoolBlob } from './RestorePool.js'
import type { Control, ResolvedControl } from '../../progress/Control.js'
import type { ResolvedRestoreOptions } from './RestoreOptions.js'
import type { PackRead, RestorePlan, RestoreStats } from './RestorePlan.js'

function ioError(e: unknown, what: string, path: FsPath): RusticError {
  if (e instanceof RusticError) return e
  return new RusticError('InputOutput', `cannot ${what} ${displayPath(path)}: ${(e as Error).message}`, { code: 'RestoreIo', cause: e })
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
 * Carries out a {@link RestorePlan} (rustic_core's `restore`): removes what the plan removes, creates
 * directories, writes file contents (each planned ranged pack read once, blobs decrypted, checked and
 * written with positioned writes into every place that needs them, reads and writes bounded in number),
 * creates symlinks, hard links and special files, then sets metadata, children before their directory.
 *
 * Stops with `Aborted` when `signal` fires; running the plan-and-restore again finishes the job (a file
 * is only given its snapshot mtime after its content is complete, so a half-written file is seen as changed).
 *
 * By default blobs are opened and written on worker threads (`workers`, one per core), files up to 1 MiB
 * with synchronous calls. Times are set with microsecond precision: Node's `utimes` goes through libuv,
 * which drops sub-microsecond digits (restic sets nanoseconds), and an existing file counts as unchanged
 * when its mtime matches the snapshot's to the microsecond. Extended attributes are set (with the native
 * `@napi-rs/xattr` package) where missing or different, never on symlinks; ownership only as root.
 * Problems with metadata or special files are warnings, as in restic.
 */
export async function restore(indexed: IndexedRepository, plan: RestorePlan, control: Control = {}): Promise<RestoreStats> {
  const opts: Opts = { ...plan.options, ...indexed.repo.control(control) }
  const { signal } = opts
  const progressFactory = opts.progress ?? noProgress
  const stats: RestoreStats = {
    filesWritten: 0,
    dirsCreated: 0,
    othersCreated: 0,
    removed: 0,
    bytesRead: 0,
    bytesWritten: 0,
    metadataSet: 0,
    warnings: 0,
  }
  const warn = (message: string, error?: unknown): void => {
    stats.warnings++
    ;(opts.onWarning ?? indexed.repo.onWarning)(message, error)
  }
  const fileLimit = pLimit(opts.fileConcurrency)
  const entries = plan.entries
  throwIfAborted(signal)

  // 1. the target, then removals
  if (plan.createTarget) {
    try {
      await mkdir(plan.target, { recursive: true })
    } catch (e) {
      throw ioError(e, 'create directory', plan.target)
    }
  }
  for (const r of plan.removals) {
    throwIfAborted(signal)
    try {
      await rm(r.fsPath, { recursive: true, force: true })
      stats.removed++
    } catch (e) {
      throw ioError(e, 'remove', r.fsPath)
    }
  }

  // 2. directories, a level at a time (parents first), in parallel within a level
  const levels = new Map<number, FsPath[]>()
  for (const e of entries) {
    if (e.node.type !== 'dir' || e.action !== 'create') continue
    const depth = e.path.split('/').length
    let l = levels.get(depth)
    if (!l) levels.set(depth, (l = []))
    l.push(e.fsPath)
  }
  for (const depth of [...levels.keys()].sort((a, b) => a - b)) {
    await Promise.all(
      levels.get(depth)!.map((p) =>
        fileLimit(async () => {
          throwIfAborted(signal)
          try {
            await mkdir(p, { mode: 0o700 })
            stats.dirsCreated++
          } catch (err) {
            throw ioError(err, 'create directory', p)
          }
        }),
      ),
    )
  }

  // 3. file contents (workers also set the metadata of new single-blob files as they write them)
  const meta = new MetadataWriter({ numericId: opts.numericId, noOwnership: opts.noOwnership, warn })
  await meta.prepare(entries.map((e) => e.node))
  const metaDone = new Uint8Array(entries.length)
  const writer = new FileWriter(
    plan.files.map((f) => ({ path: entries[f.entry]!.fsPath, size: f.size, create: f.create, writes: f.writes })),
    opts.maxOpenFiles,
    opts.sparse,
  )
  const filesProgress = progressFactory('counter', 'restoring files')
  filesProgress.setLength(plan.files.length)
  try {
    await Promise.all(
      plan.files.map((f, i) =>
        f.writes > 0
          ? undefined
          : fileLimit(async () => {
              throwIfAborted(signal)
              try {
                await writer.prepareOnly(i)
              } catch (e) {
                throw ioError(e, 'write', entries[f.entry]!.fsPath)
              }
              stats.filesWritten++
              filesProgress.inc(1)
            }),
      ),
    )
    await writeContents(indexed, plan, writer, opts, stats, meta, metaDone, () => {
      stats.filesWritten++
      filesProgress.inc(1)
    })
  } finally {
    await writer.closeAll()
    filesProgress.finish()
  }

  // 4. symlinks, special files and hard links
  const touched = new Uint8Array(entries.length)
  for (const f of plan.files) touched[f.entry] = 1
  let n = 0
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!
    if (e.action !== 'create' || e.node.type === 'dir' || (e.node.type === 'file' && e.linkTo === undefined)) continue
    if (++n % 1024 === 0) await nextTick()
    throwIfAborted(signal)
    try {
      if (e.linkTo !== undefined) meta.hardLink(entries[e.linkTo]!.fsPath, e.fsPath)
      else if (!(await meta.createSpecial(e.node, e.fsPath))) continue
    } catch (err) {
      throw ioError(err, e.linkTo !== undefined ? 'create hard link' : `create ${e.node.type}`, e.fsPath)
    }
    stats.othersCreated++
    touched[i] = 1
  }

  // 5. metadata, children before their directory (reverse tree order); hard links share their file's inode.
  // A worker set the metadata of `metaDone` files on their descriptors; files with extended attributes are
  // never among them (see `MetadataWriter.fileMetadata`): their xattrs, which have no descriptor call in
  // the package, are set here by `apply`, before the mode.
  const metaProgress = progressFactory('spinner', 'setting metadata')
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!
    if (metaDone[i] || (e.linkTo !== undefined && touched[e.linkTo])) continue
    if (i % 1024 === 0) await nextTick()
    throwIfAborted(signal)
    if (meta.apply(e.node, e.fsPath, touched[i] === 1)) stats.metadataSet++
    metaProgress.inc(1)
  }
  metaProgress.finish()
  return stats
}

type Opts = ResolvedRestoreOptions & ResolvedControl

/** Reads the planned pack ranges (bounded) and writes every blob into its places, on worker threads when possible. */
async function writeContents(
  indexed: IndexedRepository,
  plan: RestorePlan,
  writer: FileWriter,
  opts: Opts,
  stats: RestoreStats,
  meta: MetadataWriter,
  metaDone: Uint8Array,
  fileDone: () => void,
): Promise<void> {
  if (plan.reads.length === 0) return
  const pool = opts.workers > 0 ? await RestorePool.start(indexed.repo.key, opts.workers) : undefined
  if (!pool) return writeContentsHere(indexed, plan, writer, opts, stats, fileDone)
  try {
    await writeContentsOnWorkers(indexed, plan, pool, opts, stats, meta, metaDone, fileDone)
  } finally {
    await pool.close()
  }
}

/** Runs the reads with bounded concurrency; the first failure stops the rest. */
async function runReads(plan: RestorePlan, opts: Opts, inner: AbortController, doRead: (r: PackRead) => Promise<void>): Promise<void> {
  const onAbort = (): void => inner.abort(opts.signal?.reason)
  opts.signal?.addEventListener('abort', onAbort)
  const readLimit = pLimit(opts.readConcurrency)
  let first: unknown
  try {
    await Promise.all(
      plan.reads.map((r) =>
        readLimit(() => doRead(r)).catch((e: unknown) => {
          if (first === undefined) {
            first = e
            inner.abort(e) // the queued reads see the aborted signal and stop at once
          }
        }),
      ),
    )
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
  if (first !== undefined) {
    // report the caller's abort as such, not as the backend's reaction to it
    throwIfAborted(opts.signal)
    throw first
  }
}

/** Warms up the packs of the plan (cold storage), when the repository was opened to do so. */
async function warmUp(indexed: IndexedRepository, plan: RestorePlan, signal: AbortSignal): Promise<void> {
  await indexed.repo.warmUpPacks([...new Set(plan.reads.map((r) => r.packId))], { signal })
}

/** The worker-thread variant: the main thread reads pack ranges, the workers open blobs and write them. */
async function writeContentsOnWorkers(
  indexed: IndexedRepository,
  plan: RestorePlan,
  pool: RestorePool,
  opts: Opts,
  stats: RestoreStats,
  meta: MetadataWriter,
  metaDone: Uint8Array,
  fileDone: () => void,
): Promise<void> {
  const inner = new AbortController()
  const signal = inner.signal
  const left = plan.files.map((f) => f.writes)
  const bytes = (opts.progress ?? noProgress)('bytes', 'restoring file contents')
  bytes.setLength(plan.stats.bytesToWrite)
  try {
    await warmUp(indexed, plan, signal)
    // Files not created by their single write are created (or truncated) to their size first; the
    // workers then only open them for writing.
    const single = plan.files.map((f) => f.create && f.writes === 1 && !opts.sparse)
    for (let i = 0; i < plan.files.length; i++) {
      const f = plan.files[i]!
      if (f.writes === 0 || single[i]) continue
      if (i % 1024 === 0) await nextTick()
      throwIfAborted(opts.signal)
      const path = plan.entries[f.entry]!.fsPath
      try {
        const flags = constants.O_WRONLY | constants.O_NOFOLLOW | (f.create ? constants.O_CREAT | constants.O_TRUNC : 0)
        const fd = openSync(path, flags, 0o600)
        try {
          ftruncateSync(fd, f.size)
        } finally {
          closeSync(fd)
        }
      } catch (e) {
        throw ioError(e, 'write', path)
      }
    }
    const account = (written: number, files: number[], done: number[]): void => {
      stats.bytesWritten += written
      bytes.inc(written)
      for (const f of files) if (--left[f]! === 0) fileDone()
      for (const f of done) {
        metaDone[plan.files[f]!.entry] = 1
        stats.metadataSet++
      }
    }
    await runReads(plan, opts, inner, async (r) => {
      throwIfAborted(signal)
      const data = await indexed.repo.backend.readPartial('pack', r.packId, false, r.offset, r.length, { signal })
      stats.bytesRead += data.length
      const blobs: PoolBlob[] = r.blobs.map((b) => ({
        id: b.id,
        start: b.offset - r.offset,
        length: b.length,
        uncompressedLength: b.uncompressedLength,
        dataLength: b.dataLength,
        targets: b.targets.map((t) => {
          const f = plan.files[t.file]!
          const e = plan.entries[f.entry]!
          return {
            file: t.file,
            path: e.fsPath,
            offset: t.offset,
            create: single[t.file]!,
            skipZero: opts.sparse && f.create,
            meta: single[t.file] ? meta.fileMetadata(e.node) : undefined,
          }
        }),
      }))
      try {
        const res = await pool.run(data, blobs, opts.verifyBlobs, `pack ${r.packId}`)
        account(res.written, res.files, res.metaDone)
      } catch (e) {
        const partial = (e as { partial?: { written: number; files: number[]; metaDone: number[] } }).partial
        if (partial) account(partial.written, partial.files, partial.metaDone)
        throw e
      }
    })
  } finally {
    bytes.finish()
  }
}

/** The main-thread variant: reads pack ranges, opens blobs and writes them here. */
async function writeContentsHere(
  indexed: IndexedRepository,
  plan: RestorePlan,
  writer: FileWriter,
  opts: Opts,
  stats: RestoreStats,
  fileDone: () => void,
): Promise<void> {
  const repo = indexed.repo
  const backend = repo.backend
  const inner = new AbortController()
  const signal = inner.signal
  const left = plan.files.map((f) => f.writes)
  const bytes = (opts.progress ?? noProgress)('bytes', 'restoring file contents')
  bytes.setLength(plan.stats.bytesToWrite)

  // writes in flight across all reads, bounded in number and bytes; a read waits when the window is full
  let inFlight = 0
  let inFlightBytes = 0
  const maxInFlightBytes = Math.max(opts.maxReadSize, 64 << 20)
  const waiters: Array<() => void> = []
  const release = (n: number): void => {
    inFlight--
    inFlightBytes -= n
    while (waiters.length > 0 && inFlight < opts.fileConcurrency && inFlightBytes < maxInFlightBytes) waiters.shift()!()
  }
  const room = async (): Promise<void> => {
    while (inFlight >= opts.fileConcurrency || inFlightBytes >= maxInFlightBytes) await new Promise<void>((r) => waiters.push(r))
  }

  const doRead = async (r: PackRead): Promise<void> => {
    throwIfAborted(signal)
    const data = await backend.readPartial('pack', r.packId, false, r.offset, r.length, { signal })
    stats.bytesRead += data.length
    const writes: Array<Promise<void>> = []
    let failed: unknown
    for (const b of r.blobs) {
      throwIfAborted(signal)
      if (failed !== undefined) break
      const start = b.offset - r.offset
      const what = `data blob ${b.id} in pack ${r.packId}`
      const plain = repo.dbe.openBlob(data.subarray(start, start + b.length), b.uncompressedLength, what)
      if (opts.verifyBlobs && hashId(plain) !== b.id) {
        throw new RusticError('Verification', `${what} is corrupted: its content does not hash to its id`, { code: 'IntegrityError' })
      }
      if (plain.length !== b.dataLength) {
        throw new RusticError('Verification', `${what} has ${plain.length} bytes, the index says ${b.dataLength}`, { code: 'IntegrityError' })
      }
      const zero = opts.sparse && allZero(plain)
      for (const t of b.targets) {
        await room()
        inFlight++
        inFlightBytes += plain.length
        const f = plan.files[t.file]!
        writes.push(
          writer
            .write(t.file, plain, t.offset, zero && f.create)
            .then(
              () => {
                stats.bytesWritten += plain.length
                bytes.inc(plain.length)
                if (--left[t.file]! === 0) fileDone()
              },
              (e: unknown) => {
                failed ??= ioError(e, 'write', plan.entries[f.entry]!.fsPath)
              },
            )
            .finally(() => release(plain.length)),
        )
      }
    }
    await Promise.all(writes)
    if (failed !== undefined) throw failed
  }

  try {
    await warmUp(indexed, plan, signal)
    await runReads(plan, opts, inner, doRead)
  } finally {
    bytes.finish()
  }
}
