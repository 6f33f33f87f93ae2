import { mkdirSync, statSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { setImmediate as nextTick } from 'node:timers/promises'
import { throwIfAborted } from '../../error/RusticError.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import { FileWriter } from './FileWriter.js'
import { entryMeta } from './PlanEntries.js'
import { restoreIoError } from './restoreIoError.js'
import type { Control } from '../../progress/Control.js'
import type { RestorePlan, RestoreStats } from './RestorePlan.js'
import { RestoreRun } from './RestoreRun.js'
import type { RestoreWorkers } from './RestoreWorkers.js'
import { startWorkers, writeContents } from './writeContents.js'

/**
 * Carries out a {@link RestorePlan} (rustic_core's `restore`): removes what the plan removes, creates
 * directories, writes file contents (each planned ranged pack read once, blobs decrypted, checked and
 * written with positioned writes into every place that needs them, reads and writes bounded in number),
 * creates symlinks, hard links and special files, then sets metadata, children before their directory.
 *
 * Stops with `Aborted` when `signal` fires; running the plan-and-restore again finishes the job (a file
 * is only given its snapshot mtime after its content is complete, so a half-written file is seen as changed).
 *
 * By default blobs are opened and written on worker threads and this one (`workers`: threads in all, one per core,
 * at most `readConcurrency`, fewer for a small restore);
 * files without content are created from this thread, a new one getting its metadata through the descriptor it
 * was created with. Times are set as restic sets them, to the nanosecond (`utimensat`/`futimens`
 * through the prebuilt `koffi` package), or to the microsecond with Node's `utimes` where that does not
 * load (reported once as a warning; see `timePrecision`); an existing file counts as unchanged when its
 * mtime matches the snapshot's to the microsecond. Entries without a mode keep 0600/0700 (one warning). Extended attributes are set (with the native
 * `@napi-rs/xattr` package) where missing or different, never on symlinks; ownership only as root.
 * Problems with metadata or special files are warnings, as in restic.
 *
 * Damaged data in the repository (a pack missing or cut short, a blob failing its checks) does not stop
 * the restore: everything else is restored, and each file that could not be restored completely is
 * reported to `onWarning` and listed in the result's `damaged` (it is there with the parts that could be
 * read, its times not set). Check `damaged` before trusting the restore.
 *
 * `workers`: worker threads started ahead of the plan ({@link RestoreWorkers}); restore uses them if the plan
 * wants as many, and ends them in any case.
 */
export async function restore(indexed: IndexedRepository, plan: RestorePlan, control: Control = {}, workers?: RestoreWorkers): Promise<RestoreStats> {
  const run = new RestoreRun(indexed, plan, control)
  if (run.signal?.aborted) await workers?.close()
  throwIfAborted(run.signal)
  // the worker threads start while the directories and empty files are made (on another core), unless
  // `workers` started them ahead
  const started = startWorkers(run, workers)
  try {
    await prepareTarget(run)
    if (newFilesOwned(run)) run.meta.knowNewFilesOwner()
    await createDirectories(run)
    await writeFiles(run, started)
  } finally {
    // (closed by writeContents once the contents are written; here when something failed before)
    await started.then((w) => w?.pool.close()).catch(() => {})
  }
  await createOthers(run)
  await setMetadata(run)
  return run.stats
}

/** 1. The target directory, then the removals. */
async function prepareTarget(run: RestoreRun): Promise<void> {
  const { plan, stats } = run
  if (plan.createTarget) {
    try {
      // a sub-path's directory gets its own mode at the end (private until then)
      await mkdir(plan.target, { recursive: true, mode: plan.targetNode ? 0o700 : 0o777 })
    } catch (e) {
      throw restoreIoError(e, 'create directory', plan.target)
    }
  }
  for (const r of plan.removals) {
    throwIfAborted(run.signal)
    try {
      await rm(r.fsPath, { recursive: true, force: true })
      stats.removed++
    } catch (e) {
      throw restoreIoError(e, 'remove', r.fsPath)
    }
  }
}

/**
 * True when every file this restore creates gets the process's user and group by itself: every directory of
 * the plan is one it creates (with mode 0700), in a target that is not setgid, so none is setgid (a new
 * entry of a setgid directory gets the directory's group, and a new directory its setgid bit).
 */
function newFilesOwned(run: RestoreRun): boolean {
  const dirs = run.plan.stats.dirs
  if (dirs.unchanged + dirs.kept > 0) return false
  try {
    return (statSync(run.plan.target).mode & 0o2000) === 0 // (S_ISGID)
  } catch {
    return false
  }
}

/**
 * 2. Directories, in plan order (a directory's entry comes before everything below it), with synchronous
 * calls: a `mkdir` is quick, and a thread-pool round trip and a promise per directory cost more than it.
 */
async function createDirectories(run: RestoreRun): Promise<void> {
  const entries = run.plan.entries
  for (let i = 0, n = 0; i < entries.length; i++) {
    if (entries.type(i) !== 'dir' || entries.action(i) !== 'create') continue
    if (++n % 1024 === 0) await nextTick()
    throwIfAborted(run.signal)
    const p = entries.fsPath(i)
    try {
      mkdirSync(p, { mode: 0o700 })
    } catch (err) {
      throw restoreIoError(err, 'create directory', p)
    }
    run.stats.dirsCreated++
  }
}

/** 3. File contents (workers also set the metadata of new single-blob files as they write them). */
async function writeFiles(run: RestoreRun, workers: ReturnType<typeof startWorkers>): Promise<void> {
  const { plan, opts } = run
  const entries = plan.entries
  const names = entries.ownerNames()
  if (plan.targetNode?.user) names.push(plan.targetNode.user)
  if (plan.targetNode?.group) names.push(plan.targetNode.group)
  await run.meta.prepare(names)
  const writer = new FileWriter(
    (i) => {
      const files = plan.files
      return { path: entries.fsPath(files.entry(i)), size: files.size(i), create: files.create(i), writes: files.writes(i) }
    },
    opts.maxOpenFiles,
    opts.sparse,
  )
  run.startFiles()
  try {
    // files without content to write: created (or truncated) to their size. Empty ones (most of them) with
    // synchronous calls in a plain loop: a promise and a closure per file, queued all at once, held memory in
    // proportion to the number of files and kept the garbage collector busy.
    const files = plan.files
    let truncations: Array<Promise<void>> = []
    for (let i = 0, n = 0; i < files.length; i++) {
      if (files.writes(i) > 0) continue
      if (++n % 1024 === 0) await nextTick()
      throwIfAborted(run.signal)
      const entry = files.entry(i)
      if (files.size(i) > 0) {
        // an existing file whose blobs are all in place, to be cut to its size (rare): asynchronously, bounded
        truncations.push(
          run.fileLimit(async () => {
            throwIfAborted(run.signal)
            await writer.prepareOnly(i).catch((e: unknown) => {
              throw restoreIoError(e, 'write', entries.fsPath(entry))
            })
            run.fileDone()
          }),
        )
        if (truncations.length >= 1024) {
          await Promise.all(truncations)
          truncations = []
        }
        continue
      }
      // a new file gets its metadata through the descriptor it was created with (no path lookups)
      const meta = files.create(i) && !entries.hasXattrs(entry) ? run.meta.fileMetadata(entries.meta(entry)) : undefined
      let set: boolean
      try {
        set = writer.prepareEmpty(i, meta)
      } catch (e) {
        throw restoreIoError(e, 'write', entries.fsPath(entry))
      }
      if (set) {
        run.metaDone[entry] = 1
        run.stats.metadataSet++
      }
      run.fileDone()
    }
    await Promise.all(truncations)
    await writeContents(run, writer, workers)
  } finally {
    await writer.closeAll()
    run.endFiles()
  }
  run.reportDamage()
}

/** 4. Symlinks, special files and hard links. */
async function createOthers(run: RestoreRun): Promise<void> {
  const { plan, meta, touched } = run
  const entries = plan.entries
  for (let f = 0; f < plan.files.length; f++) touched[plan.files.entry(f)] = 1
  let n = 0
  for (let i = 0; i < entries.length; i++) {
    const type = entries.type(i)
    const linkTo = entries.linkTo(i)
    if (entries.action(i) !== 'create' || type === 'dir' || (type === 'file' && linkTo < 0)) continue
    if (++n % 1024 === 0) await nextTick()
    throwIfAborted(run.signal)
    const fsPath = entries.fsPath(i)
    const node = entries.node(i)
    try {
      if (linkTo >= 0) meta.hardLink(entries.fsPath(linkTo), fsPath)
      else if (node === undefined || !(await meta.createSpecial(node, fsPath))) continue
    } catch (err) {
      throw restoreIoError(err, linkTo >= 0 ? 'create hard link' : `create ${type}`, fsPath)
    }
    run.stats.othersCreated++
    touched[i] = 1
  }
}

/**
 * 5. Metadata, children before their directory (reverse tree order); hard links share their file's inode.
 * A worker set the metadata of `metaDone` files on their descriptors; files with extended attributes are
 * never among them (see `MetadataWriter.fileMetadata`): their xattrs, which have no descriptor call in
 * the package, are set here by `apply`, before the mode.
 */
async function setMetadata(run: RestoreRun): Promise<void> {
  const { plan, meta, metaDone, touched } = run
  const entries = plan.entries
  const progress = run.progress('spinner', 'setting metadata')
  for (let i = entries.length - 1; i >= 0; i--) {
    const linkTo = entries.linkTo(i)
    if (metaDone[i] || entries.action(i) === 'kept' || (linkTo >= 0 && touched[linkTo])) continue
    // a file with damaged data keeps the time it got now: a later restore sees it changed and tries again
    if (run.isDamaged(i)) continue
    if (i % 1024 === 0) await nextTick()
    throwIfAborted(run.signal)
    if (meta.apply(entries.meta(i), entries.fsPath(i), touched[i] === 1)) run.stats.metadataSet++
    progress.inc(1)
  }
  if (plan.targetNode && meta.apply(entryMeta(plan.targetNode), plan.target, true)) run.stats.metadataSet++
  progress.finish()
}
