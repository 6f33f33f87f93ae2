import { shortId, type SnapshotFile } from '@rustic-ts/core'
import { goJson, serializeSnapshot } from '@rustic-ts/core/internal'

const decoder = new TextDecoder()

/** A snapshot as restic's `--json` prints it: its stored fields plus `id` and `short_id` (and extra keys). */
export function snapshotJson(snap: SnapshotFile, extra: Record<string, unknown> = {}): string {
  const stored = decoder.decode(serializeSnapshot(snap))
  const more = goJson({ id: snap.id, short_id: snap.id ? shortId(snap.id) : undefined, ...extra })
  return more === '{}' ? stored : `${stored.slice(0, -1)},${more.slice(1)}`
}

/** A plain text table with a header and a rule under it, columns padded to fit. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2))
  return [line(header), rule, ...rows.map(line), rule].join('\n') + '\n'
}
