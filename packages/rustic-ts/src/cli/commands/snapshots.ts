import type { Command } from 'commander'
import { goTimeToDate, shortId } from '@rustic-ts/core'
import { localTimeString } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { snapshotJson, table } from '../format.js'
import { globalOptions } from '../GlobalOptions.js'
import { filterFrom, withFilterOptions, type FilterFlags } from '../filterFlags.js'

/** `snapshots`: lists snapshots. */
export function registerSnapshots(program: Command): void {
  withFilterOptions(program.command('snapshots').description('list snapshots').argument('[ids...]', 'snapshot ids (default: all)'))
    .action(async (ids: string[], opts: FilterFlags, cmd: Command) => {
      const g = globalOptions(cmd)
      const repo = await openRepo(cmd)
      try {
        const snaps =
          ids.length > 0
            ? await Promise.all(ids.map((id) => repo.findSnapshot(id, filterFrom(opts))))
            : await repo.getSnapshots(filterFrom(opts))
        if (g.json) {
          await writeOut(`[${snaps.map((s) => snapshotJson(s)).join(',')}]\n`)
          return
        }
        const rows = snaps.map((s) => [
          shortId(s.id!),
          localTimeString(goTimeToDate(s.time)),
          s.hostname,
          s.label ?? '',
          s.tags.join(','),
          s.paths.join(','),
        ])
        await writeOut(table(['ID', 'Time', 'Host', 'Label', 'Tags', 'Paths'], rows) + `${snaps.length} snapshots\n`)
      } finally {
        await repo.close()
      }
    })
}
