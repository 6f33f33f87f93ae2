import type { Command } from 'commander'
import { shortId, type DiffChange, type DiffItemStats } from '@rustic-ts/core'
import { goJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { globalOptions } from '../GlobalOptions.js'

/** restic's `ui.FormatBytes`. */
function formatBytes(n: number): string {
  const units: Array<[number, string]> = [
    [2 ** 40, 'TiB'],
    [2 ** 30, 'GiB'],
    [2 ** 20, 'MiB'],
    [2 ** 10, 'KiB'],
  ]
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toFixed(3)} ${unit}`
  return `${n} B`
}

const statJson = (s: DiffItemStats): Record<string, number> => ({
  files: s.files,
  dirs: s.dirs,
  others: s.others,
  data_blobs: s.dataBlobs,
  tree_blobs: s.treeBlobs,
  bytes: s.bytes,
})

const pad = (n: number): string => String(n).padStart(5)

/** The `diff` command's action (loaded when it runs). */
export async function diffAction(spec1: string, spec2: string, opts: { metadata?: boolean }, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const repo = await openRepo(cmd)
  try {
    const indexed = await repo.toIndexed()
    const a = await indexed.resolveSnapshotPath(spec1)
    const b = await indexed.resolveSnapshotPath(spec2)
    if (!g.json) await writeOut(`comparing snapshot ${shortId(a.snapshot.id!)} to ${shortId(b.snapshot.id!)}:\n\n`)
    const out: string[] = []
    const onChange = (c: DiffChange): void => {
      out.push(g.json ? goJson({ message_type: 'change', path: c.path, modifier: c.modifier }) + '\n' : `${c.modifier.padEnd(5)}${c.path}\n`)
    }
    const { stats } = await indexed.diff(a.node, b.node, { metadata: opts.metadata ?? false, onChange })
    await writeOut(out.join(''))
    if (g.json) {
      await writeOut(
        goJson({
          message_type: 'statistics',
          source_snapshot: spec1,
          target_snapshot: spec2,
          changed_files: stats.changedFiles,
          added: statJson(stats.added),
          removed: statJson(stats.removed),
        }) + '\n',
      )
    } else {
      await writeOut(
        [
          '',
          `Files:       ${pad(stats.added.files)} new, ${pad(stats.removed.files)} removed, ${pad(stats.changedFiles)} changed`,
          `Dirs:        ${pad(stats.added.dirs)} new, ${pad(stats.removed.dirs)} removed`,
          `Others:      ${pad(stats.added.others)} new, ${pad(stats.removed.others)} removed`,
          `Data Blobs:  ${pad(stats.added.dataBlobs)} new, ${pad(stats.removed.dataBlobs)} removed`,
          `Tree Blobs:  ${pad(stats.added.treeBlobs)} new, ${pad(stats.removed.treeBlobs)} removed`,
          `  Added:   ${formatBytes(stats.added.bytes)}`,
          `  Removed: ${formatBytes(stats.removed.bytes)}`,
          '',
        ].join('\n'),
      )
    }
  } finally {
    await repo.close()
  }
}

