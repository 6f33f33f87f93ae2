import type { Command } from 'commander'
import type { ConfigOptions } from '@rustic-ts/core'
import { lazyAction } from '../lazyAction.js'

type Kind = 'int' | 'size' | 'bool'

/** rustic's `config` flags: the option each sets and how its value is written. */
export const FLAGS: Array<{ flag: string; key: keyof ConfigOptions; kind: Kind; help: string }> = [
  { flag: 'set-version', key: 'setVersion', kind: 'int', help: 'repository version: 2 upgrades a version 1 repository (as restic migrate upgrade_repo_v2)' },
  { flag: 'set-compression', key: 'setCompression', kind: 'int', help: 'zstd level for new data (version 2; 0 = no compression)' },
  { flag: 'set-append-only', key: 'setAppendOnly', kind: 'bool', help: 'true: refuse commands that remove or rewrite files' },
  { flag: 'set-treepack-size', key: 'setTreepackSize', kind: 'size', help: 'target size of tree packs, e.g. 4M' },
  { flag: 'set-treepack-growfactor', key: 'setTreepackGrowfactor', kind: 'int', help: 'growth of tree packs with the repository size' },
  { flag: 'set-treepack-size-limit', key: 'setTreepackSizeLimit', kind: 'size', help: 'largest target size of tree packs' },
  { flag: 'set-datapack-size', key: 'setDatapackSize', kind: 'size', help: 'target size of data packs, e.g. 32M' },
  { flag: 'set-datapack-growfactor', key: 'setDatapackGrowfactor', kind: 'int', help: 'growth of data packs with the repository size' },
  { flag: 'set-datapack-size-limit', key: 'setDatapackSizeLimit', kind: 'size', help: 'largest target size of data packs' },
  { flag: 'set-min-packsize-tolerate-percent', key: 'setMinPacksizeToleratePercent', kind: 'int', help: 'prune repacks packs below this % of the target size' },
  { flag: 'set-max-packsize-tolerate-percent', key: 'setMaxPacksizeToleratePercent', kind: 'int', help: 'prune repacks packs above this % of the target size (0 = no limit)' },
  { flag: 'set-extra-verify', key: 'setExtraVerify', kind: 'bool', help: 'true: check every sealed blob before packing it' },
]

/** `config --set-...`: changes the repository config (rustic's flags); without flags prints it. */
export function registerConfig(program: Command): void {
  const cmd = program.command('config').description('show or change the repository config (version, compression, pack sizes, append-only)')
  for (const f of FLAGS) cmd.option(`--${f.flag} <${f.kind === 'bool' ? 'true|false' : f.kind === 'size' ? 'size' : 'n'}>`, f.help)
  cmd.action(lazyAction(async () => (await import('./config.action.js')).configAction))
}
