import type { Command } from 'commander'
import { findNodeJson, goTimeToDate, longListingLine, shortId } from '@rustic-ts/core'
import { localTimeString } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { globalOptions } from '../GlobalOptions.js'

interface FindFlags extends FilterFlags {
  ignoreCase?: boolean
  long?: boolean
  snapshot?: string[]
  oldest?: string
  newest?: string
}

/** The `find` command's action (loaded when it runs). */
export async function findAction(patterns: string[], opts: FindFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const repo = await openRepo(cmd)
  try {
    const indexed = await repo.toIndexed()
    const results = indexed.find(patterns, {
      ignoreCase: opts.ignoreCase ?? false,
      snapshots: opts.snapshot ?? [],
      filter: filterFrom(opts),
      oldest: opts.oldest,
      newest: opts.newest,
    })
    let first = true
    if (g.json) await writeOut('[')
    for await (const { snapshot, matches } of results) {
      if (g.json) {
        const nodes = matches.map((m) => findNodeJson(m.node, m.path)).join(',')
        await writeOut(`${first ? '' : ','}{"matches":[${nodes}],"hits":${matches.length},"snapshot":"${snapshot.id}"}`)
      } else {
        const head = `${first ? '' : '\n'}Found matching entries in snapshot ${shortId(snapshot.id!)} from ${localTimeString(goTimeToDate(snapshot.time))}\n`
        await writeOut(head + matches.map((m) => (opts.long ? longListingLine(m.node, m.path) : m.path) + '\n').join(''))
      }
      first = false
    }
    if (g.json) await writeOut(']\n')
  } finally {
    await repo.close()
  }
}

