import type { Command } from 'commander'
import { RusticError, shortId, type MergeOptions } from '@rustic-ts/core'
import { parseUserTime } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, withFilterOptions, type FilterFlags } from '../filterFlags.js'
import { snapshotJson } from '../format.js'
import { collect, globalOptions } from '../GlobalOptions.js'

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

/** `merge [SNAPSHOT...]`: merges snapshots into a new one (rustic's `merge`: the last modified entry wins). */
export function registerMerge(program: Command): void {
  withFilterOptions(
    program
      .command('merge')
      .description('merge snapshots into a new snapshot: all their paths, the last modified entry winning')
      .argument('[snapshots...]', 'snapshot ids, prefixes or latest (default: all passing the filters)')
      .option('--delete', 'remove the merged snapshots afterwards (not those their delete policy protects)')
      .option('--set-tag <tags>', 'tags of the new snapshot, comma separated (repeatable)', collect)
      .option('--set-host <host>', 'host of the new snapshot (default: the merged snapshots\' when they share one, else this machine)')
      .option('--set-label <label>', 'label of the new snapshot')
      .option('--set-description <text>', 'description of the new snapshot')
      .option('--set-time <time>', 'time of the new snapshot: 2024-05-01 12:00:00 local, or RFC 3339 (default: the latest merged snapshot\'s)')
      .option('--delete-never', 'mark the new snapshot to be never deleted by forget')
      .option('--delete-after <duration>', 'mark the new snapshot deletable only after a duration (e.g. 30d) or date'),
  ).action(async (specs: string[], f: MergeFlags, cmd: Command) => {
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
  })
}

