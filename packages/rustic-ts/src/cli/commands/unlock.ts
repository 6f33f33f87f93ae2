import type { Command } from 'commander'
import { describeLock, goJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { globalOptions } from '../GlobalOptions.js'

/** `unlock [--remove-all]`: removes stale locks (or all), as restic's `unlock`. */
export function registerUnlock(program: Command): void {
  program
    .command('unlock')
    .description('remove stale locks: older than 30 minutes, or left by processes of this host that no longer run')
    .option('--remove-all', 'remove all locks, even live ones (only when no other client uses the repository)')
    .action(async (opts: { removeAll?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd)
      const repo = await openRepo(cmd)
      try {
        const result = await repo.unlock({ removeAll: opts.removeAll ?? false })
        if (g.json) {
          await writeOut(
            goJson({
              removed: result.removed.map((l) => l.id),
              removed_files: result.removedFiles,
              kept: result.kept.map((l) => ({ id: l.id, ...l.lock })),
            }) + '\n',
          )
          return
        }
        const lines = [`removed ${result.removedFiles} lock(s)`]
        for (const l of result.kept) lines.push(`kept ${describeLock(l)}`)
        await writeOut(lines.join('\n') + '\n')
      } finally {
        await repo.close()
      }
    })
}
