import type { Command } from 'commander'
import { RusticError, shortId, type MergeOptions } from '@rustic-ts/core'
import { parseUserTime } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { snapshotJson } from '../format.js'
import { globalOptions } from '../GlobalOptions.js'

interface MergeFlags extends FilterFlags {
  delete?: boolean
  setTag?: string[]
  setHost?: string
  setLabel?: string
  setDescription?: string
  setTime?: string
  deleteNever?: boolean
  deleteAfter?: string
}

/** The `merge` command's action (loaded when it runs). */
export async function mergeAction(specs: string[], f: MergeFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const time = f.setTime === undefined ? undefined : parseUserTime(f.setTime, '--set-time')
  const options: MergeOptions = {
    delete: f.delete ?? false,
    tags: (f.setTag ?? []).flatMap((t) => t.split(',')).filter((t) => t !== ''),
    host: f.setHost,
    label: f.setLabel,
    description: f.setDescription,
    time,
    deleteNever: f.deleteNever ?? false,
    deleteAfter: f.deleteAfter,
  }
  const repo = await openRepo(cmd)
  try {
    const indexed = await repo.toIndexed()
    const filter = filterFrom(f)
    const snaps = specs.length > 0 ? await repo.findSnapshots(specs, filter) : await repo.getSnapshots(filter)
    if (snaps.length === 0) throw new RusticError('InvalidInput', 'no snapshots to merge', { code: 'IdNotFound' })
    const { snapshot, deleted, kept } = await indexed.mergeSnapshots(snaps, options)
    if (g.json) return await writeOut(`{"snapshot":${snapshotJson(snapshot)},"deleted":${JSON.stringify(deleted)},"kept":${JSON.stringify(kept)}}\n`)
    if (g.quiet) return
    const lines = [
      `merged ${snaps.length} snapshot(s): saved new snapshot ${snapshot.id}`,
      ...(deleted.length > 0 ? [`removed ${deleted.length} merged snapshot(s)`] : []),
      ...kept.map((id) => `kept snapshot ${shortId(id)}: its delete policy protects it`),
    ]
    await writeOut(lines.join('\n') + '\n')
  } finally {
    await repo.close()
  }
}

