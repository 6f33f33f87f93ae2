import type { Command } from 'commander'
import { describeLock, goJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { globalOptions } from '../GlobalOptions.js'

/** The `unlock` command's action (loaded when it runs). */
export async function unlockAction(opts: { removeAll?: boolean }, cmd: Command): Promise<void> {
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
}

