import { z } from 'zod'
import { RusticError, throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { Control } from '../progress/Control.js'
import { goTimeToDate, type SnapshotFile } from '../repofile/index.js'
import type { IndexedRepository, WalkEntry } from '../repository/IndexedRepository.js'
import { rootNode } from '../repository/rootNode.js'
import { parseOptions } from '../util/parseOptions.js'
import { SnapshotFilterSchema } from '../repository/SnapshotFilter.js'
import { globMatcher } from './globFilter.js'

/** Options of `IndexedRepository.find`, with defaults. */
export const FindOptionsSchema = z.object({
  /** Match patterns case-insensitively (restic `find -i`). */
  ignoreCase: z.boolean().default(false),
  /** Search only these snapshots (`latest`, ids or prefixes); default: every snapshot passing `filter`. */
  snapshots: z.array(z.string()).default([]),
  /** Which snapshots to search when `snapshots` is empty. */
  filter: SnapshotFilterSchema.default({ hosts: [], paths: [], tags: [], labels: [] }),
  /** Only entries modified at or after this time (anything `Date` parses, e.g. `2024-01-31`). */
  oldest: z.string().optional(),
  /** Only entries modified at or before this time. */
  newest: z.string().optional(),
})

/** Options of `IndexedRepository.find`; see {@link FindOptionsSchema}. */
export type FindOptions = z.input<typeof FindOptionsSchema>

/** The matches of `IndexedRepository.find` in one snapshot. */
export interface FindResult {
  /** The snapshot searched. */
  snapshot: SnapshotFile
  /** Matching entries, in tree order. */
  matches: WalkEntry[]
}

function parseBound(s: string | undefined, what: string): number | undefined {
  if (s === undefined) return undefined
  const t = Date.parse(s)
  if (Number.isNaN(t)) throw new RusticError('InvalidInput', `invalid ${what} time "${s}"`, { code: 'InvalidTime' })
  return t
}

/**
 * Searches snapshots, newest first, for entries whose path matches one of `patterns` (restic's `find`
 * rules: a pattern without a leading `/` matches at any depth, `*.txt` matches names; a match on a
 * directory also matches everything below it). Yields one result per snapshot with at least one match.
 */
export async function* find(
  indexed: IndexedRepository,
  patterns: readonly string[],
  options: FindOptions = {},
  control: Control = {},
): AsyncGenerator<FindResult> {
  const opts = parseOptions(FindOptionsSchema, options, 'find options')
  const { signal, progress } = indexed.repo.control(control)
  if (patterns.length === 0) throw new RusticError('InvalidInput', 'find needs at least one pattern', { code: 'NoPattern' })
  const match = globMatcher(patterns, { ignoreCase: opts.ignoreCase })
  const oldest = parseBound(opts.oldest, 'oldest')
  const newest = parseBound(opts.newest, 'newest')
  const repo = indexed.repo
  let snaps: SnapshotFile[]
  if (opts.snapshots.length > 0) {
    snaps = []
    for (const s of opts.snapshots) snaps.push(await repo.findSnapshot(s, opts.filter, { signal }))
  } else snaps = await repo.getSnapshots(opts.filter, { signal })
  snaps = [...snaps].sort((a, b) => goTimeToDate(b.time).getTime() - goTimeToDate(a.time).getTime())
  const p = progress('counter', 'searching snapshots')
  p.setLength(snaps.length)
  const byTree = new Map<Id, WalkEntry[]>()
  try {
    for (const snapshot of snaps) {
      throwIfAborted(signal)
      let matches = byTree.get(snapshot.tree)
      if (!matches) {
        matches = []
        for await (const e of indexed.walk(rootNode(snapshot.tree), '', {}, { signal })) {
          if (!match(e.path)) continue
          if (oldest !== undefined || newest !== undefined) {
            const t = goTimeToDate(e.node.mtime).getTime()
            if ((oldest !== undefined && t < oldest) || (newest !== undefined && t > newest)) continue
          }
          matches.push(e)
        }
        byTree.set(snapshot.tree, matches)
      }
      p.inc(1)
      if (matches.length > 0) yield { snapshot, matches }
    }
  } finally {
    p.finish()
  }
}
