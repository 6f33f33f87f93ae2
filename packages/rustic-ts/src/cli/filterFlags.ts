import type { Command } from 'commander'
import type { SnapshotFilter } from '@rustic-ts/core'
import { collect } from './GlobalOptions.js'

/** Snapshot filter flags as commander parses them. */
export interface FilterFlags {
  host?: string[]
  path?: string[]
  tag?: string[]
  filterLabel?: string[]
}

/** Adds restic's `--host`, `--path`, `--tag` (comma = and, repeated = or) and `--filter-label`. */
export function withFilterOptions(cmd: Command): Command {
  return cmd
    .option('--host <host>', 'only snapshots from this host (repeatable)', collect)
    .option('--path <path>', 'only snapshots including this path (repeatable)', collect)
    .option('--tag <a,b>', 'only snapshots with all these tags (repeat for alternatives)', collect)
    .option('--filter-label <label>', 'only snapshots with this label (repeatable)', collect)
}

/** The {@link SnapshotFilter} of the parsed flags. */
export function filterFrom(f: FilterFlags): SnapshotFilter {
  return {
    hosts: f.host ?? [],
    paths: f.path ?? [],
    tags: (f.tag ?? []).map((t) => t.split(',').filter((x) => x !== '')),
    labels: f.filterLabel ?? [],
  }
}
