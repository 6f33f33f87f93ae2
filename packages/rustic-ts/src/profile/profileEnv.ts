import { RusticError } from '@rustic-ts/core'
import { mergeProfileSettings } from './mergeProfileSettings.js'
import type { ProfileSettings } from './readProfileFile.js'

/**
 * Environment variables that override profile settings, as rustic's: the variable, its section and
 * key, and whether it is a yes/no value. The password variables are listed from the weakest to the
 * strongest: a later one replaces an earlier one, as the credentials are one setting.
 */
export const PROFILE_ENV: ReadonlyArray<readonly [variable: string, section: string, key: string, kind: 'string' | 'boolean']> = [
  ['RUSTIC_REPOSITORY', 'repository', 'repository', 'string'],
  ['RUSTIC_REPO_HOT', 'repository', 'repoHot', 'string'],
  ['RUSTIC_PASSWORD_COMMAND', 'repository', 'passwordCommand', 'string'],
  ['RUSTIC_PASSWORD_FILE', 'repository', 'passwordFile', 'string'],
  ['RUSTIC_PASSWORD', 'repository', 'password', 'string'],
  ['RUSTIC_CACHE_DIR', 'repository', 'cacheDir', 'string'],
  ['RUSTIC_NO_CACHE', 'repository', 'noCache', 'boolean'],
  ['RUSTIC_DRY_RUN', 'global', 'dryRun', 'boolean'],
  ['RUSTIC_NO_PROGRESS', 'global', 'noProgress', 'boolean'],
  ['RUSTIC_GROUP_BY', 'global', 'groupBy', 'string'],
]

/** Prefixes of variables that set backend options (`RUSTIC_REPO_OPT_TIMEOUT=10m` is `timeout`) and the table they go to. */
export const PROFILE_ENV_PREFIXES: ReadonlyArray<readonly [prefix: string, key: string]> = [
  ['RUSTIC_REPO_OPTHOT_', 'optionsHot'],
  ['RUSTIC_REPO_OPTCOLD_', 'optionsCold'],
  ['RUSTIC_REPO_OPT_', 'options'],
]

function yesNo(variable: string, value: string): boolean {
  const v = value.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(v)) return true
  if (['false', '0', 'no', 'off', ''].includes(v)) return false
  throw new RusticError('Configuration', `invalid ${variable}="${value}": expected true or false`, { code: 'InvalidProfile' })
}

/**
 * Profile settings with the environment's overrides applied ({@link PROFILE_ENV},
 * {@link PROFILE_ENV_PREFIXES}): the environment wins over every profile.
 * @throws RusticError `InvalidProfile` for a yes/no variable with another value.
 */
export function applyProfileEnv(settings: ProfileSettings, env: Readonly<Record<string, string | undefined>>): ProfileSettings {
  let out = settings
  for (const [variable, section, key, kind] of PROFILE_ENV) {
    const value = env[variable]
    if (value === undefined || (kind === 'string' && value === '' && variable !== 'RUSTIC_PASSWORD')) continue
    out = mergeProfileSettings(out, { [section]: { [key]: kind === 'boolean' ? yesNo(variable, value) : value } })
  }
  for (const [prefix, key] of PROFILE_ENV_PREFIXES) {
    const options: Record<string, string> = {}
    for (const [variable, value] of Object.entries(env)) {
      if (!variable.startsWith(prefix) || value === undefined) continue
      if (prefix === 'RUSTIC_REPO_OPT_' && /^RUSTIC_REPO_OPT(HOT|COLD)_/.test(variable)) continue
      options[variable.slice(prefix.length).toLowerCase().replaceAll('_', '-')] = value
    }
    if (Object.keys(options).length > 0) out = mergeProfileSettings(out, { repository: { [key]: options } })
  }
  return out
}
