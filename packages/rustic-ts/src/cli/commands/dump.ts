import type { Command } from 'commander'
import { RusticError } from '@rustic-ts/core'
import { openRepo, writeOut } from '../context.js'
import { profileOf, withProfileOptions } from '../profileOptions.js'
import { filterFrom, withFilterOptions, type FilterFlags } from '../filterFlags.js'

interface DumpFlags extends FilterFlags {
  archive: 'tar'
}

/** `dump SNAP[:PATH] [PATH]`: writes a file to stdout, or a directory as a tar stream. */
export function registerDump(program: Command): void {
  withFilterOptions(
    program
      .command('dump')
      .description("write a file's content from a snapshot to stdout; a directory is written as a tar archive")
      .argument('<snapshot>', 'SNAP[:PATH]: latest, latest~N, an id or id prefix, optionally with a path inside')
      .argument('[path]', 'path inside the snapshot (as restic: dump SNAP PATH)')
      .option('-a, --archive <format>', 'archive format for directories', 'tar'),
  ).action(async (spec: string, file: string | undefined, opts: DumpFlags, cmd: Command) => {
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
  })
}
