import type { Command } from 'commander'
import { CommandSource, RusticError, StreamSource, type BackupOptions, type ReadSource } from '@rustic-ts/core'
import { parseSize, parseUserTime, snapshotSummaryToJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { pathsFromFile } from '../filesFrom.js'
import { collect, globalOptions } from '../GlobalOptions.js'
import { onInterruptSay } from '../interrupt.js'
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

/** `backup PATH...`: backs up files into a new snapshot. */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('back up files or stdin into a new snapshot')
    .argument('[paths...]', 'files and directories to back up')
    .option('-H, --host <host>', 'hostname to record (default: this machine)')
    .option('--tag <tags>', 'tags, comma separated (repeatable)', collect)
    .option('--label <label>', 'snapshot label')
    .option('--description <text>', 'snapshot description')
    .option('--delete-never', 'mark the snapshot to be never deleted by forget')
    .option('--delete-after <duration>', 'mark the snapshot deletable only after a duration (e.g. 30d) or date')
    .option('--parent <snapshot>', 'parent snapshot (default: latest with the same host, label and paths)')
    .option('--time <time>', 'time of the snapshot (2024-05-01 12:00:00 local, or RFC 3339; default: now)')
    .option('-f, --force', 'read all files, even those unchanged since the parent')
    .option('--ignore-ctime', 'ignore ctime when comparing with the parent')
    .option('--ignore-inode', 'ignore inode numbers when comparing with the parent')
    .option('--skip-if-unchanged', 'do not save a snapshot when nothing changed')
    .option('-e, --exclude <glob>', 'exclude matching paths (repeatable)', collect)
    .option('--iexclude <glob>', 'exclude, case-insensitive (repeatable)', collect)
    .option('--exclude-file <file>', 'read exclude globs from a file (repeatable)', collect)
    .option('--iexclude-file <file>', 'read case-insensitive exclude globs from a file (repeatable)', collect)
    .option('--exclude-if-present <name>', 'exclude directories containing this file (repeatable; NAME[:header])', collect)
    .option('--exclude-caches', 'exclude directories holding a valid CACHEDIR.TAG file (their tag file is kept)')
    .option('--exclude-larger-than <size>', 'exclude files larger than this (e.g. 1G)')
    .option('--files-from <file>', 'back up the paths listed in a file, one glob pattern per line, # comments ("-": stdin; repeatable)', collect)
    .option('--files-from-verbatim <file>', 'back up the paths listed in a file, one per line, as written (repeatable)', collect)
    .option('--files-from-raw <file>', 'back up the paths listed in a file, separated by NUL bytes (repeatable)', collect)
    .option('-x, --one-file-system', 'do not cross file system boundaries')
    .option('--stdin', 'back up standard input as one file')
    .option('--stdin-filename <name>', 'file name for --stdin / --stdin-command', 'stdin')
    .option('--stdin-command <cmd>', "back up a command's output as one file")
    .option('-n, --dry-run', 'do not write anything')
    .option('--compression <mode>', 'compression: off, auto, max or a zstd level (v2 repositories)')
    .action(async (paths: string[], f: BackupFlags, cmd: Command) => {
      const g = globalOptions(cmd)
      const warn = (msg: string): void => void process.stderr.write(`warning: ${msg}\n`)
      paths = [...paths]
      for (const [files, kind] of [[f.filesFrom, 'glob'], [f.filesFromVerbatim, 'verbatim'], [f.filesFromRaw, 'raw']] as const) {
        for (const file of files ?? []) paths.push(...(await pathsFromFile(file, kind, warn)))
      }
      const listed = (f.filesFrom?.length ?? 0) + (f.filesFromVerbatim?.length ?? 0) + (f.filesFromRaw?.length ?? 0) > 0
      let source: string[] | ReadSource = paths
      if (f.stdin || f.stdinCommand) {
        source = f.stdinCommand ? new CommandSource(f.stdinCommand, f.stdinFilename) : StreamSource.stdin(f.stdinFilename)
      } else if (paths.length === 0) {
        throw new RusticError(
          'InvalidInput',
          listed ? 'nothing to back up: the --files-from files name no path' : 'nothing to back up: give at least one path, --files-from, --stdin or --stdin-command',
          { code: 'NoPaths' },
        )
      }
      const compression =
        f.compression === undefined ? undefined : /^-?\d+$/.test(f.compression) ? Number(f.compression) : (f.compression as 'off' | 'auto' | 'max')
      const options: BackupOptions = {
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
          excludeLargerThan: f.excludeLargerThan === undefined ? undefined : parseSize(f.excludeLargerThan),
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
      const repo = await openRepo(cmd)
      try {
        const indexed = await repo.toIndexed()
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
      } finally {
        await repo.close()
      }
    })
}
