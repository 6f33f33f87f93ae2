import type { Command } from 'commander'
import { shortId, type RestorePlan } from '@rustic-ts/core'
import { goJson, refuseUnsafeTarget } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, withFilterOptions, type FilterFlags } from '../filterFlags.js'
import { collect, globalOptions } from '../GlobalOptions.js'
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
  numericId?: boolean
  ownership: boolean
  sparse?: boolean
  dryRun?: boolean
  verbose?: boolean
}

/** The plan's counts as text lines. */
function planText(plan: RestorePlan): string {
  const s = plan.stats
  return [
    `files: ${s.files.create} to create, ${s.files.modify} to modify, ${s.files.unchanged} unchanged, ${s.files.verified} verified`,
    `dirs: ${s.dirs.create} to create, ${s.dirs.unchanged} existing; others: ${s.others.create} to create, ${s.others.unchanged} existing`,
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
    entries: plan.entries.map((e) => ({ path: e.path, type: e.node.type, action: e.action, hardlink: e.linkTo !== undefined || undefined })),
    removals: plan.removals.map((r) => ({ path: r.path, dir: r.isDir, reason: r.reason })),
  })
}

/** `restore SNAP[:PATH] --target DIR`: restores a snapshot (in place: only what differs is written). */
export function registerRestore(program: Command): void {
  withFilterOptions(
    program
      .command('restore')
      .description('restore a snapshot (or a path in it) into a directory; existing files that match are left alone')
      .argument('<snapshot>', 'SNAP[:PATH]: latest, latest~N, an id or id prefix, optionally with a path inside')
      .requiredOption('-t, --target <dir>', 'directory to restore into')
      .option('-i, --include <glob>', 'only restore paths matching (repeatable)', collect)
      .option('-e, --exclude <glob>', 'do not restore paths matching (repeatable)', collect)
      .option('--iinclude <glob>', 'like --include, ignoring case (repeatable)', collect)
      .option('--iexclude <glob>', 'like --exclude, ignoring case (repeatable)', collect)
      .option('--delete', 'remove files in the target that are not in the snapshot')
      .option('--verify-existing', 'hash existing files even when size and mtime match')
      .option('--numeric-id', 'restore ownership by numeric uid/gid instead of names')
      .option('--no-ownership', 'do not restore ownership')
      .option('--sparse', 'leave holes for all-zero blobs of new files')
      .option('-n, --dry-run', 'only show what would be done')
      .option('-v, --verbose', 'list every change (with --dry-run)'),
  ).action(async (spec: string, opts: RestoreFlags, cmd: Command) => {
    const g = globalOptions(cmd)
    // an empty target or `--delete` onto / is refused before the repository is opened (the plan checks again,
    // with the repository's own path)
    await refuseUnsafeTarget(opts.target, opts.delete ?? false, undefined)
    const repo = await openRepo(cmd)
    const started = Date.now()
    try {
      const indexed = await repo.toIndexed()
      // plan and restore under one shared lock, so that no other client prunes between them
      await repo.withLock('shared', async () => {
        const { snapshot, node } = await indexed.resolveSnapshotPath(spec, filterFrom(opts))
        const ignoreCase = (opts.iinclude?.length ?? 0) + (opts.iexclude?.length ?? 0) > 0
        const options = {
          include: [...(opts.include ?? []), ...(opts.iinclude ?? [])],
          exclude: [...(opts.exclude ?? []), ...(opts.iexclude ?? [])],
          ignoreCase: ignoreCase || undefined,
          delete: opts.delete ?? false,
          verifyExisting: opts.verifyExisting ?? false,
          numericId: opts.numericId ?? false,
          noOwnership: !opts.ownership,
          sparse: opts.sparse ?? false,
        }
        const plan = await indexed.planRestore(node, opts.target, withProfileOptions(g.profile?.restore, options))
        if (opts.dryRun) {
          if (g.json) {
            await writeOut(planJson(plan) + '\n')
            return
          }
          const lines: string[] = []
          if (opts.verbose) {
            for (const r of plan.removals) lines.push(`-    ${r.path}${r.isDir ? '/' : ''}`)
            for (const e of plan.entries) {
              if (e.action === 'create') lines.push(`+    ${e.path}${e.node.type === 'dir' ? '/' : ''}`)
              else if (e.action === 'modify') lines.push(`M    ${e.path}`)
            }
          }
          await writeOut(
            `would restore snapshot ${shortId(snapshot.id!)} to ${plan.target}\n${lines.map((l) => l + '\n').join('')}${planText(plan)}\n`,
          )
          return
        }
        if (!g.json) process.stderr.write(`restoring snapshot ${shortId(snapshot.id!)} to ${plan.target}\n`)
        const stats = await indexed.restore(plan)
        const s = plan.stats
        const totalFiles = s.files.create + s.files.modify + s.files.unchanged + s.files.verified
        const skipped = s.files.unchanged + s.files.verified
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
              snapshot_id: snapshot.id,
            }) + '\n',
          )
        } else {
          await writeOut(
            `${planText(plan)}\nrestored ${totalFiles - skipped} files (${humanBytes(stats.bytesWritten)} written, ${humanBytes(stats.bytesRead)} read), ` +
              `${skipped} unchanged, ${stats.removed} removed${stats.warnings ? `, ${stats.warnings} warnings` : ''}\n`,
          )
        }
        if (stats.damaged.length > 0) {
          // each was named in a warning; everything else is restored
          process.stderr.write(
            `rustic-ts: error: ${stats.damaged.length} file(s) could not be restored completely: the repository has damaged data (run check)\n`,
          )
          process.exitCode = 1
        }
      })
    } finally {
      await repo.close()
    }
  })
}
