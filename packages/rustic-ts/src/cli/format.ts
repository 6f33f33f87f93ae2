import { shortId, type SnapshotFile } from '@rustic-ts/core'
import { goJson, goTimeShortest, snapshotJsonText } from '@rustic-ts/core/internal'

/**
 * A snapshot as restic's `--json` prints it: its stored fields plus `id` and `short_id` (and extra keys),
 * the time in Go's shortest form as restic prints it (rustic writes nine fraction digits).
 */
export function snapshotJson(snap: SnapshotFile, extra: Record<string, unknown> = {}): string {
  const stored = snapshotJsonText({ ...snap, time: goTimeShortest(snap.time) })
  const more = goJson({ id: snap.id, short_id: snap.id ? shortId(snap.id) : undefined, ...extra })
  return more === '{}' ? stored : `${stored.slice(0, -1)},${more.slice(1)}`
}

/**
 * A plain text table with a header and a rule under it, columns padded to fit. A cell with newlines
 * takes several lines (restic prints a snapshot's paths one per line).
 */
export function table(header: string[], rows: string[][]): string {
  const cellLines = rows.map((r) => r.map((c) => c.split('\n')))
  const widths = header.map((h, i) => Math.max(h.length, ...cellLines.map((r) => Math.max(0, ...(r[i] ?? ['']).map((l) => l.length)))))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  const rowLines = (cells: string[][]): string[] => {
    const height = Math.max(1, ...cells.map((c) => c.length))
    return Array.from({ length: height }, (_, k) => line(header.map((_h, i) => cells[i]?.[k] ?? '')))
  }
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2))
  return [line(header), rule, ...cellLines.flatMap(rowLines), rule].join('\n') + '\n'
}
