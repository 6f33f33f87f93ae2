import type { Command } from 'commander'
import { CommandSource, isRusticError, RusticError, StreamSource, type BackupOptions, type IndexedRepository, type ReadSource } from '@rustic-ts/core'
import { parseUserTime, prestartDirectoryWorker, snapshotSummaryToJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { pathsFromFile } from '../filesFrom.js'
import { badFlag, compressionFlag, sizeFlag } from '../flagValues.js'
import { globalOptions, type GlobalOptions } from '../GlobalOptions.js'
import { onInterruptSay } from '../interrupt.js'
import { applyProfileValues, commandValues, profileOf, withProfileOptions } from '../profileOptions.js'
import type { ProfileBackupSnapshot } from '../../profile/Profile.js'
import { humanBytes } from '../progressBar.js'

interface BackupFlags {
  host?: string
  tag?: string[]
  label?: string
  description?: string
  deleteNever?: boolean
  deleteAfter?: string
  parent?: string
  force?: boolean
  ignoreCtime?: boolean
  ignoreInode?: boolean
  skipIfUnchanged?: boolean
  exclude?: string[]
  iexclude?: string[]
  excludeFile?: string[]
  iexcludeFile?: string[]
  excludeIfPresent?: string[]
  excludeLargerThan?: string
  excludeCaches?: boolean
  filesFrom?: string[]
  filesFromVerbatim?: string[]
  filesFromRaw?: string[]
  time?: string
  oneFileSystem?: boolean
  stdin?: boolean
  stdinFilename: string
  stdinCommand?: string
  dryRun?: boolean
  compression?: string
}

/** One backup to run: paths, and the profile entry whose options it takes. */
interface BackupRun {
  paths: string[]
  entry?: ProfileBackupSnapshot
}

/**
 * What `backup` backs up: the paths given (with the options of a profile entry with just these
 * sources, as rustic), standard input or a command; with none of these, every `[[backup.snapshots]]` entry
 * of the profile.
 */
function backupRuns(cmd: Command, paths: string[]): BackupRun[] {
  const entries = profileOf(cmd)?.backup.snapshots ?? []
  const fromCli = (attr: string): boolean => cmd.getOptionValueSource(attr) === 'cli'
  const f = cmd.opts() as BackupFlags
  if (paths.length === 0 && entries.length === 0 && !f.stdin && !f.stdinCommand) {
    throw new RusticError('InvalidInput', 'nothing to back up: give at least one path, --files-from, --stdin or --stdin-command, or [[backup.snapshots]] in a profile', {
      code: 'NoPaths',
    })
  }
  if (paths.length > 0 || fromCli('stdin') || fromCli('stdinCommand') || entries.length === 0) {
    const same = (e: ProfileBackupSnapshot): boolean => e.sources.length === paths.length && e.sources.every((s, i) => s === paths[i])
    const entry = paths.length > 0 ? entries.find(same) : undefined
    return [entry === undefined ? { paths } : { paths, entry }]
  }
  return entries.map((entry) => ({ paths: entry.sources, entry }))
}

/** The source of one backup: a command's output, standard input (`--stdin` or the path `-`) or the paths. */
function sourceOf(cmd: Command, paths: string[], f: BackupFlags): string[] | ReadSource {
  if (f.stdinFilename === '') throw badFlag('--stdin-filename', '', 'the file name must not be empty')
  const noPaths = paths.length === 0 || (paths.length === 1 && paths[0] === '-')
  if (f.stdinCommand && (noPaths || cmd.getOptionValueSource('stdinCommand') === 'cli')) return new CommandSource(f.stdinCommand, f.stdinFilename)
  if (f.stdin || (paths.length === 1 && paths[0] === '-')) return StreamSource.stdin(f.stdinFilename)
  if (paths.length === 0) {
    throw new RusticError('InvalidInput', 'nothing to back up: give at least one path, --stdin or --stdin-command, or [[backup.snapshots]] in a profile', { code: 'NoPaths' })
  }
  return paths
}

/**
 * What one backup reads, for the lines printed before and after it: its paths, else standard input or
 * a profile entry's stdin command, named by the entry (never the command line: it may hold a secret).
 */
function runName(run: BackupRun, f: BackupFlags): string {
  if (run.paths.length > 0 && !(run.paths.length === 1 && run.paths[0] === '-')) return run.paths.join(', ')
  const as = `as ${f.stdinFilename}`
  if (!f.stdinCommand) return `standard input ${as}`
  return run.entry?.name !== undefined ? `the output of the stdin-command of "${run.entry.name}" ${as}` : `the output of the stdin-command ${as}`
}

/** The backup options the flags ask for. */
function backupOptionsFrom(f: BackupFlags): BackupOptions {
  const compression = f.compression === undefined ? undefined : compressionFlag(f.compression)
  return {
    parent: f.parent,
    force: f.force,
    ignoreCtime: f.ignoreCtime,
    ignoreInode: f.ignoreInode,
    skipIfUnchanged: f.skipIfUnchanged,
    dryRun: f.dryRun,
    compression,
    local: {
      excludes: f.exclude ?? [],
      iexcludes: f.iexclude ?? [],
      excludeFiles: f.excludeFile ?? [],
      iexcludeFiles: f.iexcludeFile ?? [],
      excludeIfPresent: f.excludeIfPresent ?? [],
      excludeCaches: f.excludeCaches ?? false,
      excludeLargerThan: f.excludeLargerThan === undefined ? undefined : sizeFlag('--exclude-larger-than', f.excludeLargerThan),
      oneFileSystem: f.oneFileSystem ?? false,
    },
    host: f.host,
    tags: (f.tag ?? []).flatMap((t) => t.split(',')).filter((t) => t !== ''),
    label: f.label,
    description: f.description,
    deleteNever: f.deleteNever,
    deleteAfter: f.deleteAfter,
    time: f.time === undefined ? undefined : parseUserTime(f.time, '--time'),
  }
}

/** Runs one backup and prints its summary. */
async function backupOne(indexed: IndexedRepository, source: string[] | ReadSource, options: BackupOptions, f: BackupFlags, g: GlobalOptions): Promise<void> {
  if (!f.dryRun) onInterruptSay('the data uploaded so far is kept in the repository and the next backup reuses it (no snapshot was written)')
  const { snapshot, saved, skipped } = await indexed.backup(source, options)
  onInterruptSay(undefined)
  const s = snapshot.summary!
  if (g.json) {
    await writeOut(
      JSON.stringify({
        message_type: 'summary',
        ...snapshotSummaryToJson(s),
        total_duration: s.backupDuration,
        snapshot_id: saved ? snapshot.id : undefined,
        saved,
        dry_run: f.dryRun ?? false,
        skipped,
      }) + '\n',
    )
  } else {
    const lines = [
      g.verbose > 0 && snapshot.parent ? `using parent snapshot ${snapshot.parent.slice(0, 8)}` : '',
      `files: ${s.filesNew} new, ${s.filesChanged} changed, ${s.filesUnmodified} unmodified`,
      `dirs: ${s.dirsNew} new, ${s.dirsChanged} changed, ${s.dirsUnmodified} unmodified`,
      `added to the repository: ${humanBytes(s.dataAdded)} (${humanBytes(s.dataAddedPacked)} stored)`,
      `processed ${s.totalFilesProcessed} files, ${humanBytes(s.totalBytesProcessed)} in ${s.backupDuration?.toFixed(1)}s`,
      skipped.length > 0 ? `${skipped.length} entries could not be read and were skipped` : '',
      saved ? `snapshot ${snapshot.id!.slice(0, 8)} saved` : f.dryRun ? 'dry run: nothing saved' : `nothing changed: no snapshot saved (parent ${snapshot.id!.slice(0, 8)})`,
    ]
    if (!g.quiet) await writeOut(lines.filter((l) => l !== '').join('\n') + '\n')
  }
  if (skipped.length > 0) process.exitCode = 3
}

/** The `backup` command's action (loaded when it runs). */
export async function backupAction(args: string[], flags: BackupFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const paths = [...args]
  const warn = (msg: string): void => void process.stderr.write(`warning: ${msg}\n`)
  for (const [files, kind] of [[flags.filesFrom, 'glob'], [flags.filesFromVerbatim, 'verbatim'], [flags.filesFromRaw, 'raw']] as const) {
    for (const file of files ?? []) paths.push(...(await pathsFromFile(file, kind, warn)))
  }
  const listed = (flags.filesFrom?.length ?? 0) + (flags.filesFromVerbatim?.length ?? 0) + (flags.filesFromRaw?.length ?? 0) > 0
  if (listed && paths.length === 0 && !flags.stdin && !flags.stdinCommand) {
    throw new RusticError('InvalidInput', 'nothing to back up: the --files-from files name no path', { code: 'NoPaths' })
  }
  const runs = backupRuns(cmd, paths)
  const repo = await openRepo(cmd)
  // A backup of local paths lists directories on the directory worker: it starts while the index loads. Not
  // before the key is derived: scrypt's 32 MiB and the worker's isolate would add up in the peak RSS.
  const local = !flags.stdin && !flags.stdinCommand && runs.some((r) => r.paths.length > 0 && !(r.paths.length === 1 && r.paths[0] === '-'))
  const releaseWorker = local ? prestartDirectoryWorker() : undefined
  const failed: string[] = []
  try {
    // backup checks its input before it takes its lock (bad input writes nothing, not even a lock)
    const indexed = await repo.toIndexed()
    for (const run of runs) {
      if (run.entry !== undefined) applyProfileValues(cmd, commandValues(g.profile!, cmd, run.entry.settings))
      const f = cmd.opts() as BackupFlags
      if (runs.length > 1 && !g.json && !g.quiet) await writeOut(`backing up ${runName(run, f)}\n`)
      try {
        await backupOne(indexed, sourceOf(cmd, run.paths, f), withProfileOptions(run.entry?.options ?? g.profile?.backup.options, backupOptionsFrom(f)), f, g)
      } catch (e) {
        if (runs.length === 1 || isRusticError(e, 'Aborted') || isRusticError(e, 'LockLost')) throw e
        failed.push(runName(run, f))
        process.stderr.write(`rustic-ts: error: backup of ${runName(run, f)} failed: ${(e as Error).message.split('\n')[0]}\n`)
      }
    }
  } finally {
    releaseWorker?.()
    await repo.close()
  }
  if (failed.length > 0) {
    throw new RusticError('Repository', `${failed.length} of ${runs.length} backups failed: ${failed.join('; ')}`, { code: 'BackupsFailed' })
  }
}

