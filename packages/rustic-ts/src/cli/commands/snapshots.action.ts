import type { Command } from 'commander'
import { RusticError, type SnapshotFile, type SnapshotGroup } from '@rustic-ts/core'
import { goJson, parseGroupCriterion, RawJson, sortSnapshots } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { snapshotJson, table } from '../format.js'
import { globalOptions } from '../GlobalOptions.js'
import { groupHeader, SNAPSHOT_COLUMNS, snapshotCells } from '../snapshotTable.js'
import { nullIfEmpty } from './snapshots.js'

interface SnapshotsFlags extends FilterFlags {
  groupBy?: string
  latest?: string
  all?: boolean
}

/** restic's JSON group key: `hostname`, `paths`, `tags` (`""` / null when not grouped by them), plus `label` when grouped by it. */
export function resticGroupKey(g: SnapshotGroup): Record<string, unknown> {
  return { hostname: g.hostname ?? '', label: g.label, paths: nullIfEmpty(g.paths), tags: nullIfEmpty(g.tags) }
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

/** The `snapshots` command's action (loaded when it runs). */
export async function snapshotsAction(ids: string[], opts: SnapshotsFlags, cmd: Command): Promise<void> {
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
}

