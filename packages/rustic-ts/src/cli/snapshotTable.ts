import { goTimeToDate, shortId, type SnapshotFile, type SnapshotGroup } from '@rustic-ts/core'
import { isEmptyGroup, localTimeString } from '@rustic-ts/core/internal'
import { humanBytes } from './progressBar.js'

/** A group as rustic names it: `(host [h], label [l], paths [/a,/b], tags [x,y])`. */
export function groupTitle(g: SnapshotGroup): string {
  const parts: string[] = []
  if (g.hostname !== undefined) parts.push(`host [${g.hostname}]`)
  if (g.label !== undefined) parts.push(`label [${g.label}]`)
  if (g.paths !== undefined) parts.push(`paths [${g.paths.join(',')}]`)
  if (g.tags !== undefined) parts.push(`tags [${g.tags.join(',')}]`)
  return `(${parts.join(', ')})`
}

/** The header line printed above a group's table, or `''` without grouping. */
export function groupHeader(g: SnapshotGroup): string {
  return isEmptyGroup(g) ? '' : `snapshots for ${groupTitle(g)}\n`
}

/** Columns of a snapshot table, as rustic prints them. */
export const SNAPSHOT_COLUMNS = ['ID', 'Time', 'Host', 'Label', 'Tags', 'Paths', 'Files', 'Dirs', 'Size']

/** A snapshot's cells for {@link SNAPSHOT_COLUMNS}: tags and paths one per line; files, dirs, size from the summary (`?` without). */
export function snapshotCells(s: SnapshotFile): string[] {
  const sum = s.summary
  return [
    shortId(s.id!),
    localTimeString(goTimeToDate(s.time)),
    s.hostname,
    s.label ?? '',
    s.tags.join('\n'),
    s.paths.join('\n'),
    sum ? String(sum.totalFilesProcessed) : '?',
    sum?.totalDirsProcessed !== undefined ? String(sum.totalDirsProcessed) : '?',
    sum ? humanBytes(sum.totalBytesProcessed) : '?',
  ]
}
