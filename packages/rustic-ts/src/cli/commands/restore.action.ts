import { opendir } from 'node:fs/promises'
import type { Command } from 'commander'
import { RestoreWorkers, RusticError, shortId, type IndexedRepository, type Node, type RestoreOptions, type RestorePlan } from '@rustic-ts/core'
import { goJson, refuseUnsafeTarget } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { globalOptions } from '../GlobalOptions.js'
import { onInterruptSay } from '../interrupt.js'
import { withProfileOptions } from '../profileOptions.js'
import { humanBytes } from '../progressBar.js'

interface RestoreFlags extends FilterFlags {
  target: string
  include?: string[]
  exclude?: string[]
  iinclude?: string[]
  iexclude?: string[]
  delete?: boolean
  verifyExisting?: boolean
  overwrite?: string
  verify?: boolean
  numericId?: boolean
  ownership: boolean
  sparse?: boolean
  dryRun?: boolean
}

/** restic's `--overwrite` values. */
const OVERWRITE = ['always', 'if-changed', 'if-newer', 'never'] as const

/** The `--overwrite` value, checked. */
function overwriteFlag(value: string | undefined): RestoreOptions['overwrite'] {
  if (value === undefined) return undefined
  const v = OVERWRITE.find((o) => o === value)
  if (v === undefined) {
    throw new RusticError('InvalidInput', `bad --overwrite "${value}": use ${OVERWRITE.join(', ')}`, { code: 'InvalidOptions' })
  }
  return v
}

/**
 * restic's `restore --verify`: reads every file the restore left in place back and hashes it against the
 * snapshot (a second plan with `verifyExisting`: a file still to create or modify did not verify). Files
 * the `overwrite` option kept are not checked. Returns the paths that did not verify and the count checked.
 */
async function verifyRestored(
  indexed: IndexedRepository,
  node: Node,
  target: string,
  restored: RestorePlan,
  options: RestoreOptions,
): Promise<{ bad: string[]; checked: number }> {
  const check = await indexed.planRestore(node, target, { ...options, overwrite: 'always', delete: false, verifyExisting: true })
  const kept = new Set<string>()
  for (let i = 0; i < restored.entries.length; i++) if (restored.entries.action(i) === 'kept') kept.add(restored.entries.path(i))
  const bad: string[] = []
  let checked = 0
  const entries = check.entries
  for (let i = 0; i < entries.length; i++) {
    if (entries.type(i) !== 'file') continue
    const path = entries.path(i)
    if (kept.has(path)) continue
    checked++
    const action = entries.action(i)
    if (action === 'create' || action === 'modify') bad.push(path)
  }
  return { bad, checked }
}

/** The plan's counts as text lines. */
function planText(plan: RestorePlan): string {
  const s = plan.stats
  return [
    `files: ${s.files.create} to create, ${s.files.modify} to modify, ${s.files.unchanged} unchanged, ${s.files.verified} verified` +
      (s.files.kept > 0 ? `, ${s.files.kept} existing kept` : ''),
    `dirs: ${s.dirs.create} to create, ${s.dirs.unchanged} existing; others: ${s.others.create} to create, ${s.others.unchanged} existing` +
      (s.dirs.kept + s.others.kept > 0 ? `; ${s.dirs.kept + s.others.kept} other existing entries kept` : ''),
    `removals: ${s.removals.additional} not in the snapshot, ${s.removals.replaced} in the way; ${s.additionalKept} additional entries kept`,
    `to read: ${humanBytes(s.bytesToRead)} in ${s.reads} reads from ${s.packs} packs; to write: ${humanBytes(s.bytesToWrite)}; already in place: ${humanBytes(s.bytesMatched)}`,
  ].join('\n')
}

/** The plan as JSON: counts, entries that change and removals. */
function planJson(plan: RestorePlan): string {
  return goJson({
    message_type: 'plan',
    target: plan.target,
    stats: {
      files: plan.stats.files,
      dirs: plan.stats.dirs,
      others: plan.stats.others,
      removals: plan.stats.removals,
      additional_kept: plan.stats.additionalKept,
      bytes_to_read: plan.stats.bytesToRead,
      bytes_to_write: plan.stats.bytesToWrite,
      bytes_matched: plan.stats.bytesMatched,
      blobs: plan.stats.blobs,
      packs: plan.stats.packs,
      reads: plan.stats.reads,
    },
    entries: Array.from(plan.entries, (e) => ({ path: e.path, type: e.type, action: e.action, hardlink: e.linkTo !== undefined || undefined })),
    removals: plan.removals.map((r) => ({ path: r.path, dir: r.isDir, reason: r.reason })),
  })
}

/** True if `target` does not exist or is an empty directory (so a restore into it reads every blob of the snapshot). */
async function emptyOrMissing(target: string): Promise<boolean> {
  try {
    const dir = await opendir(target)
    try {
      return (await dir.read()) === null
    } finally {
      await dir.close()
    }
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT'
  }
}

/** The `restore` command's action (loaded when it runs). */
export async function restoreAction(spec: string, opts: RestoreFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const overwrite = overwriteFlag(opts.overwrite)
  // an empty target or `--delete` onto / is refused before the repository is opened (the plan checks again,
  // with the repository's own path)
  await refuseUnsafeTarget(opts.target, opts.delete ?? false, undefined)
  const ignoreCase = (opts.iinclude?.length ?? 0) + (opts.iexclude?.length ?? 0) > 0
  const options: RestoreOptions = {
    overwrite,
    include: [...(opts.include ?? []), ...(opts.iinclude ?? [])],
    exclude: [...(opts.exclude ?? []), ...(opts.iexclude ?? [])],
    ignoreCase: ignoreCase || undefined,
    delete: opts.delete ?? false,
    verifyExisting: opts.verifyExisting ?? false,
    numericId: opts.numericId ?? false,
    noOwnership: !opts.ownership,
    sparse: opts.sparse ?? false,
  }
  const planOptions = withProfileOptions(g.profile?.restore, options)
  const fresh = opts.dryRun ? Promise.resolve(false) : emptyOrMissing(opts.target)
  const repo = await openRepo(cmd)
  const started = Date.now()
  // into a new or empty target, restore's worker threads start now, on the other core, while this thread loads
  // the index and plans (onto an earlier restore, the plan may read nothing: restore starts them if it needs them)
  const workers = (await fresh) ? RestoreWorkers.start(repo, planOptions) : undefined
  try {
    // the index loads while the lock is taken; plan and restore run under one shared lock, so that no other
    // client prunes between them, starting as soon as the lock file is written (in restic's 200 ms wait
    // before the second look at the other locks: restore writes nothing into the repository)
    const indexing = repo.toIndexed()
    indexing.catch(() => {}) // (awaited below, or the lock failed first)
    const isFresh = await fresh
    await repo.withLockEarly('shared', async (lock) => {
      const indexed = await indexing
      const { snapshot, node } = await indexed.resolveSnapshotPath(spec, filterFrom(opts), { signal: lock.signal })
      const plan = await indexed.planRestore(node, opts.target, planOptions)
      if (opts.dryRun) {
        if (g.json) {
          await writeOut(planJson(plan) + '\n')
          return
        }
        const lines: string[] = []
        if (g.verbose > 0) {
          for (const r of plan.removals) lines.push(`-    ${r.path}${r.isDir ? '/' : ''}`)
          for (const e of plan.entries) {
            if (e.action === 'create') lines.push(`+    ${e.path}${e.type === 'dir' ? '/' : ''}`)
            else if (e.action === 'modify') lines.push(`M    ${e.path}`)
          }
        }
        await writeOut(
          `would restore snapshot ${shortId(snapshot.id!)} to ${plan.target}\n${lines.map((l) => l + '\n').join('')}${planText(plan)}\n`,
        )
        return
      }
      if (!g.json && !g.quiet) process.stderr.write(`restoring snapshot ${shortId(snapshot.id!)} to ${plan.target}\n`)
      onInterruptSay(`the files restored so far are kept in ${plan.target}; restore again to finish (files already in place are not written again)`)
      // into a new or empty target the files are written at once; an existing target's entries are changed or
      // removed only once the lock is confirmed
      if (!isFresh) await lock.verify()
      const stats = await indexed.restore(plan, {}, workers)
      onInterruptSay(undefined)
      const verified = opts.verify ? await verifyRestored(indexed, node, opts.target, plan, options) : undefined
      const s = plan.stats
      const totalFiles = s.files.create + s.files.modify + s.files.unchanged + s.files.verified + s.files.kept
      const skipped = s.files.unchanged + s.files.verified + s.files.kept
      if (g.json) {
        await writeOut(
          goJson({
            message_type: 'summary',
            seconds_elapsed: Math.round((Date.now() - started) / 1000),
            total_files: totalFiles,
            files_restored: totalFiles - skipped,
            files_skipped: skipped,
            files_deleted: stats.removed,
            total_bytes: s.bytesToWrite + s.bytesMatched,
            bytes_restored: stats.bytesWritten,
            bytes_skipped: s.bytesMatched,
            bytes_read: stats.bytesRead,
            dirs_created: stats.dirsCreated,
            others_created: stats.othersCreated,
            metadata_set: stats.metadataSet,
            warnings: stats.warnings,
            files_damaged: stats.damaged.length,
            files_verified: verified?.checked,
            verify_errors: verified?.bad.length,
            snapshot_id: snapshot.id,
          }) + '\n',
        )
      } else if (!g.quiet) {
        await writeOut(
          `${planText(plan)}\nrestored ${totalFiles - skipped} files (${humanBytes(stats.bytesWritten)} written, ${humanBytes(stats.bytesRead)} read), ` +
            `${skipped} unchanged, ${stats.removed} removed${stats.warnings ? `, ${stats.warnings} warnings` : ''}\n` +
            (verified ? `verified ${verified.checked - verified.bad.length} of ${verified.checked} files\n` : ''),
        )
      }
      if (stats.damaged.length > 0) {
        // each was named in a warning; everything else is restored
        process.stderr.write(
          `rustic-ts: error: ${stats.damaged.length} file(s) could not be restored completely: the repository has damaged data (run check)\n`,
        )
        process.exitCode = 1
      }
      if (verified && verified.bad.length > 0) {
        for (const p of verified.bad) process.stderr.write(`rustic-ts: verify: ${p} does not match the snapshot\n`)
        throw new RusticError('Repository', `${verified.bad.length} restored files do not match the snapshot`, { code: 'IntegrityError' })
      }
    })
  } finally {
    await workers?.close()
    await repo.close()
  }
}

