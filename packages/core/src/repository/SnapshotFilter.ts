import { z } from 'zod'
import type { SnapshotFile } from '../repofile/index.js'
import { parseGoTime } from '../repofile/goTime.js'
import { parseUserTime } from '../util/userTime.js'
import { zodParse } from '../util/zodParse.js'

const readTime = zodParse((text) => parseUserTime(text))

/** A time bound of a filter: a `Date`, or a string {@link parseUserTime} reads (RFC 3339, `2024-05-01 12:00`). */
const TimeBoundSchema = z.union([z.date(), z.string()]).transform((v, ctx) => (v instanceof Date ? v : readTime(v, ctx)))

/**
 * Selects snapshots: restic's `--host`, `--path`, `--tag`, rustic's `--filter-label`, `--filter-after`,
 * `--filter-before`, and a predicate of your own. Every given criterion must match; an empty one matches all.
 */
export const SnapshotFilterSchema = z.object({
  /** Keep snapshots from any of these hosts. */
  hosts: z.array(z.string()).default([]),
  /** Keep snapshots whose paths include all of these. */
  paths: z.array(z.string()).default([]),
  /**
   * Keep snapshots having all tags of at least one list: `[["a","b"],["c"]]` = (a and b) or c, as restic's
   * `--tag a,b --tag c`. A list `[""]` selects snapshots without tags.
   */
  tags: z.array(z.array(z.string())).default([]),
  /** Keep snapshots with any of these labels (`""` = no label). */
  labels: z.array(z.string()).default([]),
  /** Keep snapshots taken at or after this time. */
  after: TimeBoundSchema.optional(),
  /** Keep snapshots taken before this time. */
  before: TimeBoundSchema.optional(),
  /** Keep snapshots for which this returns true. */
  predicate: z.custom<(snapshot: SnapshotFile) => boolean>((v) => typeof v === 'function').optional(),
})

/** A snapshot filter; every field is optional and an empty field matches all. */
export type SnapshotFilter = z.input<typeof SnapshotFilterSchema>

/**
 * True if the snapshot has every tag of `list` (restic's `HasTags`): an empty tag in the list matches a
 * snapshot without tags.
 */
export function hasTags(snap: SnapshotFile, list: readonly string[]): boolean {
  for (const tag of list) {
    if (tag === '' && snap.tags.length === 0) return true
    if (!snap.tags.includes(tag)) return false
  }
  return true
}

/** True if the snapshot matches at least one of the tag lists, or `lists` is empty (restic's `HasTagList`). */
export function hasTagList(snap: SnapshotFile, lists: readonly (readonly string[])[]): boolean {
  return lists.length === 0 || lists.some((l) => hasTags(snap, l))
}

/** Unix milliseconds of a snapshot's time (sub-millisecond digits cut). */
function timeMs(snap: SnapshotFile): number {
  return Number(parseGoTime(snap.time).unixNs / 1_000_000n)
}

/** True if the snapshot passes the filter (a filter as given or as parsed by {@link SnapshotFilterSchema}). */
export function matchesFilter(snap: SnapshotFile, filter: SnapshotFilter = {}): boolean {
  const { hosts = [], paths = [], tags = [], labels = [], after, before, predicate } = filter
  if (hosts.length > 0 && !hosts.includes(snap.hostname)) return false
  if (paths.length > 0 && !paths.every((p) => snap.paths.includes(p))) return false
  if (!hasTagList(snap, tags)) return false
  if (labels.length > 0 && !labels.includes(snap.label ?? '')) return false
  if (after !== undefined || before !== undefined) {
    const t = timeMs(snap)
    if (after !== undefined && t < boundMs(after)) return false
    if (before !== undefined && t >= boundMs(before)) return false
  }
  if (predicate !== undefined && !predicate(snap)) return false
  return true
}

function boundMs(b: Date | string): number {
  return (b instanceof Date ? b : parseUserTime(b)).getTime()
}

/** True if the filter selects anything less than every snapshot. */
export function isFilterSet(filter: SnapshotFilter = {}): boolean {
  const { hosts = [], paths = [], tags = [], labels = [], after, before, predicate } = filter
  return hosts.length + paths.length + tags.length + labels.length > 0 || after !== undefined || before !== undefined || predicate !== undefined
}
