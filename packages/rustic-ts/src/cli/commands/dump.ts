import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { lazyAction } from '../lazyAction.js'

/** `dump SNAP[:PATH] [PATH]`: writes a file to stdout, or a directory as a tar stream. */
export function registerDump(program: Command): void {
  withFilterOptions(
    program
      .command('dump')
      .description("write a file's content from a snapshot to stdout; a directory is written as a tar archive")
      .argument('<snapshot>', 'SNAP[:PATH]: latest, latest~N, an id or id prefix, optionally with a path inside')
      .argument('[path]', 'path inside the snapshot (as restic: dump SNAP PATH)')
      .option('-a, --archive <format>', 'archive format for directories', 'tar'),
  ).action(lazyAction(async () => (await import('./dump.action.js')).dumpAction))
}
