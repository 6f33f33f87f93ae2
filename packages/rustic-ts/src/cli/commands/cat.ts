import type { Command } from 'commander'
import {
  CONFIG_ID,
  findIdByPrefix,
  parseConfig,
  parseKeyFile,
  parseSnapshot,
  resticCatConfigJson,
  resticCatKeyJson,
  resticCatSnapshotJson,
  RusticError,
  type FileType,
  type Id,
} from '@rustic-ts/core'
import { openRepo, writeOut } from '../context.js'

const encoder = new TextEncoder()
const FILE_TYPES: Record<string, FileType> = { key: 'key', snapshot: 'snapshot', index: 'index' }

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
        await repo.lock('shared')
        let out: Uint8Array
        // config, key and snapshot are printed as restic re-serialises them (its fields, indented)
        if (type === 'config') {
          out = encoder.encode(resticCatConfigJson(parseConfig(await repo.dbe.readEncryptedFull('config', CONFIG_ID))))
        } else {
          if (!id) throw new RusticError('InvalidInput', `cat ${type} needs an id`, { code: 'MissingArgument' })
          const ft = FILE_TYPES[type]
          if (ft) {
            const full = findIdByPrefix(await repo.backend.list(ft), id, type)
            if (ft === 'key') out = encoder.encode(resticCatKeyJson(parseKeyFile(await repo.backend.readFull('key', full), `key ${full}`)))
            else if (ft === 'snapshot') {
              out = encoder.encode(resticCatSnapshotJson(parseSnapshot(await repo.dbe.readEncryptedFull(ft, full), `snapshot ${full}`, full)))
            } else out = await repo.dbe.readEncryptedFull(ft, full)
          } else if (type === 'blob') {
            const indexed = await repo.toIndexed()
            const candidates = [...indexed.index.entries('data'), ...indexed.index.entries('tree')].map(([i]) => i)
            const full: Id = findIdByPrefix(candidates, id, 'blob')
            out = await indexed.getBlob(indexed.index.has('tree', full) ? 'tree' : 'data', full)
          } else if (type === 'tree') {
            const indexed = await repo.toIndexed()
            const { node, path } = await indexed.resolveSnapshotPath(id)
            if (!node.subtree) throw new RusticError('InvalidInput', `${path || '/'} is not a directory`, { code: 'NotADirectory' })
            out = await indexed.getBlob('tree', node.subtree)
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
