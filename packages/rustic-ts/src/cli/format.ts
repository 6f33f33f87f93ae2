import { goJson, RawJson, serializeSnapshot, shortId, type Node, type SnapshotFile } from '@rustic-ts/core'

const decoder = new TextDecoder()

/** A snapshot as restic's `--json` prints it: its stored fields plus `id` and `short_id` (and extra keys). */
export function snapshotJson(snap: SnapshotFile, extra: Record<string, unknown> = {}): string {
  const stored = decoder.decode(serializeSnapshot(snap))
  const more = goJson({ id: snap.id, short_id: snap.id ? shortId(snap.id) : undefined, ...extra })
  return more === '{}' ? stored : `${stored.slice(0, -1)},${more.slice(1)}`
}

/** Go's `FileMode.String()` of a node's mode (e.g. `drwxr-xr-x`, `Lrwxrwxrwx`). */
export function modeString(mode: number): string {
  const letters = 'dalTLDpSugct?'
  let out = ''
  for (let i = 0; i < letters.length; i++) {
    if (Math.floor(mode / 2 ** (31 - i)) % 2 === 1) out += letters[i]
  }
  if (out === '') out = '-'
  const rwx = 'rwxrwxrwx'
  for (let i = 0; i < 9; i++) out += Math.floor(mode / 2 ** (8 - i)) % 2 === 1 ? rwx[i] : '-'
  return out
}

/** One `ls --json` line as restic 0.14 prints it for a node. */
export function lsNodeJson(node: Node, path: string): string {
  return goJson({
    name: node.name,
    type: node.type,
    path,
    uid: node.uid,
    gid: node.gid,
    size: node.type === 'file' ? new RawJson(String(node.size ?? 0)) : undefined,
    mode: node.mode || undefined,
    permissions: modeString(node.mode ?? 0),
    mtime: node.mtime,
    atime: node.atime,
    ctime: node.ctime,
    struct_type: 'node',
  })
}

/** A local `YYYY-MM-DD hh:mm:ss` time as restic prints in tables. */
export function tableTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

/** A plain text table with a header and a rule under it, columns padded to fit. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2))
  return [line(header), rule, ...rows.map(line), rule].join('\n') + '\n'
}
