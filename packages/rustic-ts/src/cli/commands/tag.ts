import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { collect } from '../GlobalOptions.js'
import { lazyAction } from '../lazyAction.js'

/**
 * `tag`: changes snapshots' tags (restic's `--add`, `--set`, `--remove`) and rustic's fields (label,
 * description, delete policy, host, time). Without snapshot ids, every snapshot passing the filters.
 */
export function registerTag(program: Command): void {
  withFilterOptions(
    program
      .command('tag')
      .description('change the tags (and label, description, delete policy, host, time) of snapshots')
      .argument('[snapshots...]', 'ids, id prefixes, latest, latest~N (default: every snapshot passing the filters)')
      .option('--add <tags>', 'tags to add, as tag[,tag,...] (repeatable)', collect)
      .option('--set <tags>', 'tags that replace the existing ones, as tag[,tag,...] (repeatable; "" = no tags)', collect)
      .option('--remove <tags>', 'tags to remove, as tag[,tag,...] (repeatable)', collect)
      .option('--set-label <label>', 'set the label ("" removes it)')
      .option('--set-description <text>', 'set the description ("" removes it)')
      .option('--set-delete <when>', 'set the delete policy: never, none (remove it), a duration from now (30d) or a date (2026-01-01)')
      .option('--set-host <host>', 'set the host name')
      .option('--set-time <time>', 'set the snapshot time (2024-05-01 12:00:00 local, or RFC 3339)'),
  ).action(lazyAction(async () => (await import('./tag.action.js')).tagAction))
}
