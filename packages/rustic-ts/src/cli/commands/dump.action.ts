import type { Command } from 'commander'
import { RusticError } from '@rustic-ts/core'
import { openRepo, writeOut } from '../context.js'
import { profileOf, withProfileOptions } from '../profileOptions.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'

interface DumpFlags extends FilterFlags {
  archive: 'tar'
}

/** The `dump` command's action (loaded when it runs). */
export async function dumpAction(spec: string, file: string | undefined, opts: DumpFlags, cmd: Command): Promise<void> {
  if (opts.archive !== 'tar') {
    throw new RusticError('InvalidInput', `unsupported archive format "${opts.archive}": use tar`, { code: 'InvalidArgument' })
  }
  const repo = await openRepo(cmd)
  try {
    const indexed = await repo.toIndexed()
    const full = file === undefined ? spec : `${spec.split(':')[0]}:${file}`
    const { node, path } = await indexed.resolveSnapshotPath(full, filterFrom(opts))
    for await (const chunk of indexed.dump(node, path, withProfileOptions(profileOf(cmd)?.dump, { archive: opts.archive }))) await writeOut(chunk)
  } finally {
    await repo.close()
  }
}

