import type { Command } from 'commander'
import { RusticError, type CatFileType } from '@rustic-ts/core'
import { parseConfig, parseKeyFile, parseSnapshot, resticCatConfigJson, resticCatKeyJson, resticCatSnapshotJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'

const encoder = new TextEncoder()

const FILE_TYPES: Record<string, CatFileType> = { key: 'key', snapshot: 'snapshot', index: 'index' }

/** The `cat` command's action (loaded when it runs). */
export async function catAction(type: string, id: string | undefined, _opts: unknown, cmd: Command): Promise<void> {
  const repo = await openRepo(cmd)
  try {
    let out: Uint8Array
    // config, key and snapshot are printed as restic re-serialises them (its fields, indented)
    if (type === 'config') {
      out = encoder.encode(resticCatConfigJson(parseConfig(await repo.catFile('config'))))
    } else {
      if (!id) throw new RusticError('InvalidInput', `cat ${type} needs an id`, { code: 'MissingArgument' })
      const ft = FILE_TYPES[type]
      if (ft) {
        const raw = await repo.catFile(ft, id)
        if (ft === 'key') out = encoder.encode(resticCatKeyJson(parseKeyFile(raw, `key ${id}`)))
        else if (ft === 'snapshot') out = encoder.encode(resticCatSnapshotJson(parseSnapshot(raw, `snapshot ${id}`)))
        else out = raw
      } else if (type === 'blob') {
        out = await (await repo.toIndexed()).catBlob(id)
      } else if (type === 'tree') {
        out = await (await repo.toIndexed()).catTree(id)
      } else {
        throw new RusticError('InvalidInput', `cannot cat "${type}": use config, key, snapshot, index, blob or tree`, {
          code: 'InvalidArgument',
        })
      }
    }
    await writeOut(out)
    if (out.length > 0 && out[out.length - 1] !== 0x0a && type !== 'blob') await writeOut('\n')
  } finally {
    await repo.close()
  }
}

