import type { Command } from 'commander'
import { stringify as stringifyToml } from 'smol-toml'
import { z } from 'zod'
import { writeOut } from '../context.js'
import { globalOptions } from '../GlobalOptions.js'
import { MASK, maskRepository } from '../maskRepository.js'
import { mergeProfileSettings } from '../../profile/mergeProfileSettings.js'
import { kebabCase, PROFILE_FIELDS, type ProfileField, type ProfileFields } from '../../profile/ProfileSchema.js'
import type { ProfileSettings } from '../../profile/readProfileFile.js'

/** Keys of backend options and environment variables whose values are secrets. */
const SECRET = /pass|secret|token|key|credential/i

/** Settings as a profile file writes them: kebab-case keys, passwords and secret-looking options masked. */
function printable(value: unknown, field: ProfileField | undefined, key: string): unknown {
  if (field === undefined || field instanceof z.ZodType) {
    if (key === 'password') return MASK
    if ((key === 'repository' || key === 'repoHot') && typeof value === 'string') return maskRepository(value)
    return value
  }
  switch (field.kind) {
    case 'table':
      return printableTable(value as ProfileSettings, field.fields)
    case 'tables':
      return (value as ProfileSettings[]).map((t) => printableTable(t, field.fields))
    case 'namesOrTables':
      return (value as unknown[]).map((t) => (typeof t === 'string' ? t : printableTable(t as ProfileSettings, field.fields)))
    case 'map':
      return Object.fromEntries(Object.entries(value as Record<string, string>).map(([k, v]) => [k, SECRET.test(k) ? MASK : v]))
  }
}

function printableTable(settings: ProfileSettings, fields: ProfileFields): ProfileSettings {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [kebabCase(k), printable(v, fields[k], k)]))
}

/** The repository flags given on the command line, as `[repository]` settings. */
function repositoryFlags(root: Command): ProfileSettings {
  const out: ProfileSettings = {}
  const given = (attr: string): boolean => root.getOptionValueSource(attr) === 'cli'
  for (const [attr, key] of [
    ['repo', 'repository'],
    ['repoHot', 'repoHot'],
    ['passwordFile', 'passwordFile'],
    ['passwordCommand', 'passwordCommand'],
    ['cacheDir', 'cacheDir'],
    ['retryLock', 'retryLock'],
  ] as const) {
    if (given(attr)) out[key] = root.getOptionValue(attr)
  }
  if (given('cache')) out['noCache'] = !root.getOptionValue('cache')
  if (given('lock')) out['lock'] = root.getOptionValue('lock')
  return out
}

/** The `show-config` command's action (loaded when it runs). */
export async function showConfigAction(_opts: unknown, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const profile = g.profile
  const flags = repositoryFlags(cmd.parent!)
  const settings = mergeProfileSettings(profile?.settings ?? {}, Object.keys(flags).length > 0 ? { repository: flags } : {})
  const out = printableTable(settings, PROFILE_FIELDS)
  if (g.json) return await writeOut(JSON.stringify({ files: profile?.files ?? [], config: out }) + '\n')
  const files = profile?.files ?? []
  const header = files.length > 0 ? files.map((f) => `# from ${f}\n`).join('') : '# no profile file read\n'
  await writeOut(`${header}${Object.keys(out).length > 0 ? `\n${stringifyToml(out)}\n` : ''}`)
}

