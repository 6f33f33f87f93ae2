import { access } from 'node:fs/promises'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { RusticError } from '@rustic-ts/core'
import { mergeProfileSettings } from './mergeProfileSettings.js'
import { profileFromSettings, type Profile } from './Profile.js'
import { applyProfileEnv } from './profileEnv.js'
import { readProfileFile, type ProfileSettings } from './readProfileFile.js'

/** Where and how {@link loadProfiles} reads profiles. */
export interface LoadProfilesOptions {
  /**
   * The directories searched for `NAME.toml`, in order; the first that has it is read. Default
   * {@link profileDirs}: `$XDG_CONFIG_HOME/rustic-ts` (`~/.config/rustic-ts`), `/etc/rustic-ts`, the current
   * directory.
   */
  dirs?: readonly string[]
  /**
   * Environment variables that override the profiles (`RUSTIC_REPOSITORY`, `RUSTIC_PASSWORD`,
   * `RUSTIC_REPO_OPT_*`, ...: see `docs/profiles.md`); pass `process.env` to honour them as the CLI does.
   * Default: none.
   */
  env?: Readonly<Record<string, string | undefined>>
}

/** The profile read when none is named. */
export const DEFAULT_PROFILE = 'rustic'

/** The directories profiles are searched in: `$XDG_CONFIG_HOME/rustic-ts` (default `~/.config/rustic-ts`), `/etc/rustic-ts`, the current directory. */
export function profileDirs(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const xdg = env['XDG_CONFIG_HOME']
  const config = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.config')
  return [join(config, 'rustic-ts'), '/etc/rustic-ts', process.cwd()]
}

/**
 * Reads profiles (rustic's config profiles, `NAME.toml`) and merges them: later names win over earlier
 * ones, a profile wins over those it names in `[global] use-profiles` (merged first, recursively), and the
 * environment (`options.env`) wins over all. Without names the default profile `rustic` is read if it
 * exists. A name that is an absolute path is read as it is; otherwise `NAME.toml` (or `NAME` if it ends in
 * `.toml`) is looked for in each directory of `options.dirs`.
 *
 * ```ts
 * const profile = await loadProfiles(['home'])
 * const { backend, credentials, options } = profile.repository
 * const repo = await openRepository(options, backend!, credentials!)
 * const plan = await repo.planForget(profile.forget)
 * ```
 * @throws RusticError `ProfileNotFound` for a named profile without a file, `ProfileCycle` for profiles
 *   naming each other in `use-profiles`, `InvalidProfile` naming the file, line and key of a syntax error,
 *   an unknown key or a value of the wrong type.
 */
export async function loadProfiles(names: readonly string[] = [], options: LoadProfilesOptions = {}): Promise<Profile> {
  const dirs = options.dirs ?? profileDirs()
  const files: string[] = []
  const warnings: string[] = []
  let settings: ProfileSettings = {}

  /** Reads one profile and those it uses (merged under it); `stack` is the chain of files that led here. */
  const load = async (name: string, stack: readonly string[], from?: string): Promise<ProfileSettings | undefined> => {
    const file = await findProfile(name, dirs)
    if (file === undefined) {
      if (from === undefined && names.length === 0) return undefined // the default profile need not exist
      const tried = candidates(name, dirs).join(', ')
      throw new RusticError('Configuration', `${from ? `${from}: ` : ''}profile "${name}" not found: none of ${tried} exists`, { code: 'ProfileNotFound' })
    }
    if (stack.includes(file)) {
      throw new RusticError('Configuration', `${from}: use-profiles "${name}" makes a cycle: ${[...stack, file].join(' -> ')}`, { code: 'ProfileCycle' })
    }
    const read = await readProfileFile(file)
    warnings.push(...read.warnings)
    const global = (read.settings['global'] ?? {}) as ProfileSettings
    let merged: ProfileSettings = {}
    const uses = (global['useProfiles'] as string[] | undefined) ?? []
    for (const [i, used] of uses.entries()) {
      const line = read.lineOf(['global', 'use-profiles', i])
      const usedSettings = await load(used, [...stack, file], `${file}${line === undefined ? '' : `:${line}`}`)
      if (usedSettings !== undefined) merged = mergeProfileSettings(merged, usedSettings)
    }
    files.push(file)
    const own = { ...read.settings }
    if ('useProfiles' in global) {
      const rest = Object.fromEntries(Object.entries(global).filter(([k]) => k !== 'useProfiles'))
      if (Object.keys(rest).length > 0) own['global'] = rest
      else delete own['global']
    }
    return mergeProfileSettings(merged, own)
  }

  for (const name of names.length > 0 ? names : [DEFAULT_PROFILE]) {
    const s = await load(name, [])
    if (s !== undefined) settings = mergeProfileSettings(settings, s)
  }
  if (options.env !== undefined) settings = applyProfileEnv(settings, options.env)
  return profileFromSettings(settings, files, warnings)
}

function candidates(name: string, dirs: readonly string[]): string[] {
  if (isAbsolute(name)) return [name]
  const file = name.endsWith('.toml') ? name : `${name}.toml`
  return dirs.map((d) => resolve(d, file))
}

async function findProfile(name: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const file of candidates(name, dirs)) {
    try {
      await access(file)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}
