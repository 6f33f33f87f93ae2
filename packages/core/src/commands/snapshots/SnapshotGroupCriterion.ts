import { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'
import { zodParse } from '../../util/zodParse.js'

/** What snapshots are grouped by (rustic's `SnapshotGroupCriterion`); every field false = one group. */
export interface SnapshotGroupCriterion {
  /** Group by host name. */
  hostname: boolean
  /** Group by label. */
  label: boolean
  /** Group by the set of backed-up paths. */
  paths: boolean
  /** Group by the set of tags. */
  tags: boolean
}

/** The default grouping: host, label and paths (for snapshots without a label, restic's `host,paths`). */
export const DEFAULT_GROUP_CRITERION: Readonly<SnapshotGroupCriterion> = Object.freeze({
  hostname: true,
  label: true,
  paths: true,
  tags: false,
})

/**
 * Parses a grouping as restic's and rustic's `--group-by` take it: comma-separated `host`, `label`,
 * `paths`, `tags` (restic's `hosts`, `path` and `tag` too); `""` = no grouping.
 * @throws RusticError `InvalidInput`/`InvalidOptions` naming an unknown word.
 */
export function parseGroupCriterion(text: string): SnapshotGroupCriterion {
  const c: SnapshotGroupCriterion = { hostname: false, label: false, paths: false, tags: false }
  for (const word of text.split(',').map((w) => w.trim())) {
    if (word === 'host' || word === 'hosts') c.hostname = true
    else if (word === 'label' || word === 'labels') c.label = true
    else if (word === 'paths' || word === 'path') c.paths = true
    else if (word === 'tags' || word === 'tag') c.tags = true
    else if (word !== '') {
      throw new RusticError('InvalidInput', `unknown grouping "${word}" in "${text}": use host, label, paths and/or tags, separated by commas`, {
        code: 'InvalidOptions',
      })
    }
  }
  return c
}

/** The `--group-by` text of a criterion (`host,label,paths`). */
export function formatGroupCriterion(c: SnapshotGroupCriterion): string {
  const words: string[] = []
  if (c.hostname) words.push('host')
  if (c.label) words.push('label')
  if (c.paths) words.push('paths')
  if (c.tags) words.push('tags')
  return words.join(',')
}

const readCriterion = zodParse(parseGroupCriterion)

/** zod schema of a grouping: a criterion object or its `--group-by` text; default host, label, paths. */
export const SnapshotGroupCriterionSchema = z
  .union([
    z.string(),
    z.object({
      hostname: z.boolean().default(false),
      label: z.boolean().default(false),
      paths: z.boolean().default(false),
      tags: z.boolean().default(false),
    }),
  ])
  .default({ ...DEFAULT_GROUP_CRITERION })
  .transform((v, ctx) => (typeof v === 'string' ? readCriterion(v, ctx) : v))
