import type { Command } from 'commander'
import { RusticError, type ListFileKind } from '@rustic-ts/core'
import { goJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { globalOptions } from '../GlobalOptions.js'
import { KINDS } from './list.js'

/** The `list` command's action (loaded when it runs). */
export async function listAction(kind: string, _opts: unknown, cmd: Command): Promise<void> {
  if (!(KINDS as readonly string[]).includes(kind)) {
    throw new RusticError('InvalidInput', `invalid type "${kind}": expected one of ${KINDS.join(', ')}`, { code: 'InvalidOptions' })
  }
  const g = globalOptions(cmd)
  const repo = await openRepo(cmd)
  try {
    if (kind === 'blobs') {
      const blobs = []
      let text = ''
      for await (const b of repo.listBlobs()) {
        if (g.json) blobs.push(b)
        else text += `${b.type} ${b.id}\n`
        if (text.length > 1 << 16) {
          await writeOut(text)
          text = ''
        }
      }
      await writeOut(g.json ? goJson(blobs) + '\n' : text)
      return
    }
    const files = await repo.listFiles(kind as ListFileKind)
    await writeOut(g.json ? goJson(files) + '\n' : files.map((f) => `${f.id}\n`).join(''))
  } finally {
    await repo.close()
  }
}

