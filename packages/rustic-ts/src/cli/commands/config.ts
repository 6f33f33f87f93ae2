import type { Command } from 'commander'
import { ConfigOptionsSchema, RusticError, type ConfigFile, type ConfigOptions } from '@rustic-ts/core'
import { parseSize, serializeConfig } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { globalOptions } from '../GlobalOptions.js'
import { humanBytes } from '../progressBar.js'

type Kind = 'int' | 'size' | 'bool'

/** rustic's `config` flags: the option each sets and how its value is written. */
const FLAGS: Array<{ flag: string; key: keyof ConfigOptions; kind: Kind; help: string }> = [
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
  cmd.action(async (flags: Record<string, string | undefined>, c: Command) => {
    const options = configOptions(flags)
    const g = globalOptions(c)
    const repo = await openRepo(c)
    try {
      const { changed, config } = await repo.applyConfig(options)
      if (g.json) return await writeOut(JSON.stringify({ changed, config: configJson(config) }) + '\n')
      if (g.quiet && Object.keys(options).length > 0) return // a change asked for: -q prints nothing; `config` alone prints the config
      await writeOut(`${Object.keys(options).length === 0 ? '' : changed ? 'saved the new config\n' : 'the config is unchanged\n'}${describe(config)}`)
    } finally {
      await repo.close()
    }
  })
}

/** The options of the given flags, each value checked on its own so that an error names its flag. */
function configOptions(flags: Record<string, string | undefined>): ConfigOptions {
  const options: Record<string, unknown> = {}
  for (const f of FLAGS) {
    const text = flags[f.key]
    if (text === undefined) continue
    const bad = (why: string): RusticError => new RusticError('InvalidInput', `invalid --${f.flag} "${text}": ${why}`, { code: 'InvalidArgument' })
    let value: number | boolean
    if (f.kind === 'bool') {
      if (text !== 'true' && text !== 'false') throw bad('expected true or false')
      value = text === 'true'
    } else if (f.kind === 'int') {
      if (!/^-?\d+$/.test(text.trim())) throw bad('expected a whole number')
      value = Number(text)
    } else {
      try {
        value = parseSize(text)
      } catch {
        throw bad('expected a size such as 4M, 512k or 1G')
      }
    }
    const checked = ConfigOptionsSchema.shape[f.key].safeParse(value)
    if (!checked.success) throw bad(checked.error.issues.map((i) => i.message.replace(/^Invalid input: /, '')).join('; '))
    options[f.key] = value
  }
  return options as ConfigOptions
}

/** The config as stored (snake_case keys, polynomial in hex, rustic's settings when set). */
function configJson(c: ConfigFile): unknown {
  return JSON.parse(new TextDecoder().decode(serializeConfig({ ...c, isHot: undefined })))
}

function describe(c: ConfigFile): string {
  const size = (n: number | undefined): string => (n === undefined ? 'default' : humanBytes(n))
  const value = (v: number | boolean | undefined): string => (v === undefined ? 'default' : String(v))
  const rows: Array<[string, string]> = [
    ['repository', c.id],
    ['version', String(c.version)],
    ['compression', c.version === 1 ? 'none (version 1)' : c.compression === undefined ? 'default' : c.compression === 0 ? 'off' : `zstd level ${c.compression}`],
    ['append-only', String(c.appendOnly ?? false)],
    ['tree pack size', `${size(c.treepackSize)}, grow factor ${value(c.treepackGrowfactor)}, limit ${size(c.treepackSizeLimit)}`],
    ['data pack size', `${size(c.datapackSize)}, grow factor ${value(c.datapackGrowfactor)}, limit ${size(c.datapackSizeLimit)}`],
    ['pack size tolerance', `min ${value(c.minPacksizeToleratePercent)}%, max ${value(c.maxPacksizeToleratePercent)}%`],
    ['extra verify', value(c.extraVerify)],
  ]
  return rows.map(([k, v]) => `${k.padEnd(20)} ${v}`).join('\n') + '\n'
}
