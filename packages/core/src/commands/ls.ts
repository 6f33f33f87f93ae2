import { z } from 'zod'
import { throwIfAborted } from '../error/RusticError.js'
import type { Control } from '../progress/Control.js'
import type { Node } from '../repofile/index.js'
import type { IndexedRepository, WalkEntry } from '../repository/IndexedRepository.js'
import { parseOptions } from '../util/parseOptions.js'
import { pathFilter } from './globFilter.js'

/** Options of `IndexedRepository.ls`, with defaults. */
export const LsOptionsSchema = z.object({
  /** List the whole tree below the directory (default), or only its direct entries. */
  recursive: z.boolean().default(true),
  /** Only list paths matching one of these globs (restic pattern rules, see `globMatcher`); empty lists everything. */
  include: z.array(z.string()).default([]),
  /** Leave out paths matching one of these globs. */
  exclude: z.array(z.string()).default([]),
  /** Match patterns case-insensitively. */
  ignoreCase: z.boolean().default(false),
})

/** Options of `IndexedRepository.ls`; see {@link LsOptionsSchema}. */
export type LsOptions = z.input<typeof LsOptionsSchema>

/**
 * Lists a snapshot's entries below `node` (as {@link IndexedRepository.resolveSnapshotPath} gives it),
 * depth-first in name order, with absolute paths; a non-directory node lists itself.
 * Print them with {@link lsNodeJson} (restic's `ls --json` lines) or {@link longListingLine}.
 */
export async function* ls(
  indexed: IndexedRepository,
  node: Node,
  path: string,
  options: LsOptions = {},
  control: Control = {},
): AsyncGenerator<WalkEntry> {
  const opts = parseOptions(LsOptionsSchema, options, 'ls options')
  const { signal } = control
  const selected = pathFilter(opts)
  if (node.type !== 'dir') {
    if (selected(path || `/${node.name}`)) yield { path: path || `/${node.name}`, node }
    return
  }
  for await (const entry of indexed.walk(node, path, { recursive: opts.recursive, cacheTrees: false }, { signal })) {
    throwIfAborted(signal)
    if (selected(entry.path)) yield entry
  }
}
