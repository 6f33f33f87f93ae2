import { z } from 'zod'
import type { SnapshotFile } from '../repofile/index.js'

/** Selects snapshots, like restic's `--host`, `--path`, `--tag` and rustic's `--filter-label`. */
export const SnapshotFilterSchema = z.object({
  /** Keep snapshots from any of these hosts. */
  hosts: z.array(z.string()).default([]),
  /** Keep snapshots whose paths include all of these. */
  paths: z.array(z.string()).default([]),
  /** Keep snapshots having all tags of at least one group (`[["a","b"],["c"]]` = a and b, or c). */
  tags: z.array(z.array(z.string())).default([]),
  /** Keep snapshots with any of these labels. */
  labels: z.array(z.string()).default([]),
})

/** A snapshot filter; every field is optional and an empty field matches all. */
export type SnapshotFilter = z.input<typeof SnapshotFilterSchema>

/** True if the snapshot passes the filter. */
export function matchesFilter(snap: SnapshotFile, filter: SnapshotFilter = {}): boolean {
  const { hosts = [], paths = [], tags = [], labels = [] } = filter
  if (hosts.length > 0 && !hosts.includes(snap.hostname)) return false
  if (paths.length > 0 && !paths.every((p) => snap.paths.includes(p))) return false
  if (tags.length > 0 && !tags.some((group) => group.every((t) => snap.tags.includes(t)))) return false
  if (labels.length > 0 && !labels.includes(snap.label ?? '')) return false
  return true
}
