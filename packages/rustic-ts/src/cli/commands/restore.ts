import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { collect } from '../GlobalOptions.js'
import { lazyAction } from '../lazyAction.js'

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
      .option('--overwrite <when>', 'existing files: always (hash even those with matching size and mtime), if-changed (default), if-newer (only replace older ones) or never')
      .option('--verify-existing', 'hash existing files even when size and mtime match (same as --overwrite always)')
      .option('--verify', 'read the restored files back and check them against the snapshot')
      .option('--numeric-id', 'restore ownership by numeric uid/gid instead of names')
      .option('--no-ownership', 'do not restore ownership')
      .option('--sparse', 'leave holes for all-zero blobs of new files')
      .option('-n, --dry-run', 'only show what would be done (with -v: every change)'),
  ).action(lazyAction(async () => (await import('./restore.action.js')).restoreAction))
}
