import type { Command } from 'commander'
import { ConfigOptionsSchema, RusticError, type ConfigFile, type ConfigOptions } from '@rustic-ts/core'
import { parseSize, serializeConfig } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { globalOptions } from '../GlobalOptions.js'
import { humanBytes } from '../progressBar.js'
import { FLAGS } from './config.js'

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

/** The `config` command's action (loaded when it runs). */
export async function configAction(flags: Record<string, string | undefined>, c: Command): Promise<void> {
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
}

