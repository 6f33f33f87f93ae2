import type { SnapshotFile } from '../../repofile/index.js'
import type { SnapshotGroupCriterion } from './SnapshotGroupCriterion.js'

/**
 * The key shared by the snapshots of one group (rustic's `SnapshotGroup`): only the fields the grouping
 * uses are set. `paths` and `tags` are sorted without repeats, so `[/b, /a]` and `[/a, /b]` are one group.
 */
export interface SnapshotGroup {
  /** The host, when grouped by host. */
  hostname?: string
  /** The label (`""` for none), when grouped by label. */
  label?: string
  /** The backed-up paths, when grouped by paths. */
  paths?: string[]
  /** The tags, when grouped by tags. */
  tags?: string[]
}

/** A sorted copy without repeats. */
function sortedSet(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** The group of a snapshot under a grouping. */
export function snapshotGroupOf(snap: SnapshotFile, c: SnapshotGroupCriterion): SnapshotGroup {
  const g: SnapshotGroup = {}
  if (c.hostname) g.hostname = snap.hostname
  if (c.label) g.label = snap.label ?? ''
  if (c.paths) g.paths = sortedSet(snap.paths)
  if (c.tags) g.tags = sortedSet(snap.tags)
  return g
}

/** True if the group key has no field (no grouping). */
export function isEmptyGroup(g: SnapshotGroup): boolean {
  return g.hostname === undefined && g.label === undefined && g.paths === undefined && g.tags === undefined
}

/** A string equal for equal groups (to use as a map key). */
export function snapshotGroupKey(g: SnapshotGroup): string {
  return JSON.stringify([g.hostname ?? null, g.label ?? null, g.paths ?? null, g.tags ?? null])
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

function cmpList(a: readonly string[] | undefined, b: readonly string[] | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = cmpStr(a[i]!, b[i]!)
    if (c !== 0) return c
  }
  return a.length - b.length
}

/** Orders groups as rustic lists them: by host, then label, then paths, then tags. */
export function compareSnapshotGroups(a: SnapshotGroup, b: SnapshotGroup): number {
  return (
    cmpStr(a.hostname ?? '', b.hostname ?? '') ||
    cmpStr(a.label ?? '', b.label ?? '') ||
    cmpList(a.paths, b.paths) ||
    cmpList(a.tags, b.tags)
  )
}
