import type { Command } from 'commander'
import { CommandSource, RusticError, StreamSource, type BackupOptions, type ReadSource } from '@rustic-ts/core'
import { snapshotSummaryToJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { badFlag, compressionFlag, sizeFlag } from '../flagValues.js'
import { collect, globalOptions } from '../GlobalOptions.js'
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
    .option('--host <host>', 'hostname to record (default: this machine)')
    .option('--tag <tags>', 'tags, comma separated (repeatable)', collect)
    .option('--label <label>', 'snapshot label')
    .option('--description <text>', 'snapshot description')
    .option('--delete-never', 'mark the snapshot to be never deleted by forget')
    .option('--delete-after <duration>', 'mark the snapshot deletable only after a duration (e.g. 30d) or date')
    .option('--parent <snapshot>', 'parent snapshot (default: latest with the same host, label and paths)')
    .option('--force', 'read all files, even those unchanged since the parent')
    .option('--ignore-ctime', 'ignore ctime when comparing with the parent')
    .option('--ignore-inode', 'ignore inode numbers when comparing with the parent')
    .option('--skip-if-unchanged', 'do not save a snapshot when nothing changed')
    .option('-e, --exclude <glob>', 'exclude matching paths (repeatable)', collect)
    .option('--iexclude <glob>', 'exclude, case-insensitive (repeatable)', collect)
    .option('--exclude-file <file>', 'read exclude globs from a file (repeatable)', collect)
    .option('--iexclude-file <file>', 'read case-insensitive exclude globs from a file (repeatable)', collect)
    .option('--exclude-if-present <name>', 'exclude directories containing this file (repeatable; NAME[:header])', collect)
    .option('--exclude-larger-than <size>', 'exclude files larger than this (e.g. 1G)')
    .option('-x, --one-file-system', 'do not cross file system boundaries')
    .option('--stdin', 'back up standard input as one file')
    .option('--stdin-filename <name>', 'file name for --stdin / --stdin-command', 'stdin')
    .option('--stdin-command <cmd>', "back up a command's output as one file")
    .option('-n, --dry-run', 'do not write anything')
    .option('--compression <mode>', 'compression: off, auto, max or a zstd level (v2 repositories)')
    .action(async (paths: string[], f: BackupFlags, cmd: Command) => {
      const g = globalOptions(cmd)
      if (f.stdinFilename === '') throw badFlag('--stdin-filename', '', 'the file name must not be empty')
      let source: string[] | ReadSource = paths
      if (f.stdin || f.stdinCommand) {
        source = f.stdinCommand ? new CommandSource(f.stdinCommand, f.stdinFilename) : StreamSource.stdin(f.stdinFilename)
      } else if (paths.length === 0) {
        throw new RusticError('InvalidInput', 'nothing to back up: give at least one path, --stdin or --stdin-command', { code: 'NoPaths' })
      }
      const compression = f.compression === undefined ? undefined : compressionFlag(f.compression)
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
          excludeLargerThan: f.excludeLargerThan === undefined ? undefined : sizeFlag('--exclude-larger-than', f.excludeLargerThan),
          oneFileSystem: f.oneFileSystem ?? false,
        },
        host: f.host,
        tags: (f.tag ?? []).flatMap((t) => t.split(',')).filter((t) => t !== ''),
        label: f.label,
        description: f.description,
        deleteNever: f.deleteNever,
        deleteAfter: f.deleteAfter,
      }
      const repo = await openRepo(cmd)
      try {
        // backup checks its input before it takes its lock (bad input writes nothing, not even a lock)
        const indexed = await repo.toIndexed()
        const { snapshot, saved, skipped } = await indexed.backup(source, options)
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
            `Files:       ${s.filesNew} new, ${s.filesChanged} changed, ${s.filesUnmodified} unmodified`,
            `Dirs:        ${s.dirsNew} new, ${s.dirsChanged} changed, ${s.dirsUnmodified} unmodified`,
            `Added to the repository: ${humanBytes(s.dataAdded)} (${humanBytes(s.dataAddedPacked)} stored)`,
            `processed ${s.totalFilesProcessed} files, ${humanBytes(s.totalBytesProcessed)} in ${s.backupDuration?.toFixed(1)}s`,
            skipped.length > 0 ? `${skipped.length} entries could not be read and were skipped` : '',
            saved ? `snapshot ${snapshot.id!.slice(0, 8)} saved` : f.dryRun ? 'dry run: nothing saved' : `nothing changed: no snapshot saved (parent ${snapshot.id!.slice(0, 8)})`,
          ]
          await writeOut(lines.filter((l) => l !== '').join('\n') + '\n')
        }
        if (skipped.length > 0) process.exitCode = 3
      } finally {
        await repo.close()
      }
    })
}
