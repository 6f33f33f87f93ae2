import type { Command } from 'commander'
import type { SnapshotFilter } from '@rustic-ts/core'
import { parseUserTime } from '@rustic-ts/core/internal'
import { collect } from './GlobalOptions.js'

/** Snapshot filter flags as commander parses them. */
export interface FilterFlags {
  host?: string[]
  path?: string[]
  tag?: string[]
  filterLabel?: string[]
  label?: string[]
  filterAfter?: string
  filterBefore?: string
}

/** The commands {@link withFilterOptions} gave the filter flags. */
const filterCommands = new WeakSet<Command>()

/** True if the command has the snapshot filter flags (profiles' `[snapshot-filter]` then applies to it). */
export function hasFilterOptions(cmd: Command): boolean {
  return filterCommands.has(cmd)
}

/**
 * Adds restic's `-H/--host`, `--path`, `--tag` (comma = and, repeated = or) and rustic's `--filter-label`
 * (also `--label`), `--filter-after`, `--filter-before`. `shortHost: false` leaves `-H` out (restic's
 * `forget` uses it for `--keep-hourly`).
 */
export function withFilterOptions(cmd: Command, { shortHost = true }: { shortHost?: boolean } = {}): Command {
  filterCommands.add(cmd)
  return cmd
    .option(`${shortHost ? '-H, ' : ''}--host <host>`, 'only snapshots from this host (repeatable)', collect)
    .option('--path <path>', 'only snapshots including this path (repeatable)', collect)
    .option('--tag <a,b>', 'only snapshots with all these tags (repeat for alternatives)', collect)
    .option('--filter-label <label>', 'only snapshots with this label (repeatable)', collect)
    .option('--label <label>', 'same as --filter-label', collect)
    .option('--filter-after <time>', 'only snapshots taken at or after this time (2024-05-01, 2024-05-01 12:00, RFC 3339)')
    .option('--filter-before <time>', 'only snapshots taken before this time')
}

/** The {@link SnapshotFilter} of the parsed flags. */
export function filterFrom(f: FilterFlags): SnapshotFilter {
  return {
    hosts: f.host ?? [],
    paths: f.path ?? [],
    tags: (f.tag ?? []).map((t) => t.split(',').map((x) => x.trim())),
    labels: [...(f.filterLabel ?? []), ...(f.label ?? [])],
    after: f.filterAfter === undefined ? undefined : parseUserTime(f.filterAfter, '--filter-after'),
    before: f.filterBefore === undefined ? undefined : parseUserTime(f.filterBefore, '--filter-before'),
  }
}
