import type { Command } from 'commander'
import { RusticError, type CatFileType } from '@rustic-ts/core'
import { openRepo, writeOut } from '../context.js'

const FILE_TYPES: Record<string, CatFileType> = { key: 'key', snapshot: 'snapshot', index: 'index' }

/** `cat config|key|snapshot|index ID|blob ID|tree SNAP[:PATH]`: prints a decrypted repository object. */
export function registerCat(program: Command): void {
  program
    .command('cat')
    .description('print a decrypted repository object: config, key ID, snapshot ID, index ID, blob ID, tree SNAP[:PATH]')
    .argument('<type>', 'config | key | snapshot | index | blob | tree')
    .argument('[id]', 'id or unique id prefix (tree: SNAP[:PATH])')
    .action(async (type: string, id: string | undefined, _opts: unknown, cmd: Command) => {
      const repo = await openRepo(cmd)
      try {
        let out: Uint8Array
        if (type === 'config') {
          out = await repo.catFile('config')
        } else {
          if (!id) throw new RusticError('InvalidInput', `cat ${type} needs an id`, { code: 'MissingArgument' })
          const ft = FILE_TYPES[type]
          if (ft) {
            out = await repo.catFile(ft, id)
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
    })
}
