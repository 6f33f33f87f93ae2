import type { Command } from 'commander'
import { RusticError, type SnapshotFile, type SnapshotGroup } from '@rustic-ts/core'
import { goJson, parseGroupCriterion, RawJson, sortSnapshots } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, withFilterOptions, type FilterFlags } from '../filterFlags.js'
import { snapshotJson, table } from '../format.js'
import { globalOptions } from '../GlobalOptions.js'
import { groupHeader, SNAPSHOT_COLUMNS, snapshotCells } from '../snapshotTable.js'

interface SnapshotsFlags extends FilterFlags {
  groupBy?: string
  latest?: string
  all?: boolean
}

/** A list as Go writes a nil-or-empty slice restic groups by: `null` when empty or not grouped by. */
export function nullIfEmpty(list: string[] | undefined): string[] | null {
  return list === undefined || list.length === 0 ? null : list
}

/** restic's JSON group key: `hostname`, `paths`, `tags` (`""` / null when not grouped by them), plus `label` when grouped by it. */
export function resticGroupKey(g: SnapshotGroup): Record<string, unknown> {
  return { hostname: g.hostname ?? '', label: g.label, paths: nullIfEmpty(g.paths), tags: nullIfEmpty(g.tags) }
}

/** `snapshots`: lists snapshots, grouped (text: as rustic prints them; `--json`: restic's shapes). */
export function registerSnapshots(program: Command): void {
  withFilterOptions(
    program
      .command('snapshots')
      .description('list snapshots')
      .argument('[ids...]', 'snapshots to list: ids, id prefixes, latest, latest~N (default: all passing the filters)')
      .option('-g, --group-by <fields>', 'group by host, label, paths and/or tags, separated by commas ("" = no grouping; default host,label,paths)')
      .option('--latest <n>', 'only the newest N snapshots of each group')
      .option('--all', 'a row for every snapshot (default: follow-up snapshots with the same tree share one row, marked (+N))'),
  ).action(async (ids: string[], opts: SnapshotsFlags, cmd: Command) => {
    const g = globalOptions(cmd)
    const latest = opts.latest === undefined ? 0 : Number(opts.latest)
    if (!Number.isInteger(latest) || latest < 0) {
      throw new RusticError('InvalidInput', `bad --latest "${opts.latest}": expected a whole number`, { code: 'InvalidOptions' })
    }
    const groupBy = parseGroupCriterion(opts.groupBy ?? 'host,label,paths')
    const filter = filterFrom(opts)
    const repo = await openRepo(cmd, {}, { readsAllSnapshots: ids.length === 0 || ids.some((id) => id.startsWith('latest')) })
    try {
      const groups = await repo.groupSnapshots({ snapshots: ids, filter, groupBy, latest })
      if (g.json) {
        if (opts.groupBy === undefined) {
          const all = sortSnapshots(groups.flatMap((x) => x.snapshots))
          return await writeOut(`[${all.map((s) => snapshotJson(s)).join(',')}]\n`)
        }
        const out = groups.map((x) => ({ group_key: resticGroupKey(x.group), snapshots: x.snapshots.map((s) => new RawJson(snapshotJson(s))) }))
        return await writeOut(goJson(out) + '\n')
      }
      let text = ''
      let total = 0
      for (const x of groups) {
        total += x.snapshots.length
        const rows = (opts.all ? x.snapshots.map((s) => ({ first: s, more: 0 })) : collapseSameTree(x.snapshots)).map(({ first, more }) => {
          const cells = snapshotCells(first)
          if (more > 0) cells[0] += ` (+${more})`
          return cells
        })
        text += `${groupHeader(x.group)}${table(SNAPSHOT_COLUMNS, rows)}${x.snapshots.length} snapshot(s)\n\n`
      }
      await writeOut(`${text}total: ${total} snapshot(s)\n`)
    } finally {
      await repo.close()
    }
  })
}

/** Runs of consecutive snapshots with the same tree, as rustic's table shows them: the first of each run and how many follow it. */
export function collapseSameTree(snapshots: readonly SnapshotFile[]): Array<{ first: SnapshotFile; more: number }> {
  const runs: Array<{ first: SnapshotFile; more: number }> = []
  for (const s of snapshots) {
    const last = runs[runs.length - 1]
    if (last && last.first.tree === s.tree) last.more++
    else runs.push({ first: s, more: 0 })
  }
  return runs
}
