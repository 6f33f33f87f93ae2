import type { Command } from 'commander'
import { collect } from '../GlobalOptions.js'
import { lazyAction } from '../lazyAction.js'

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
    .action(lazyAction(async () => (await import('./backup.action.js')).backupAction))
}
