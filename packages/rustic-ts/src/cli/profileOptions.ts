import { Option, type Command } from 'commander'
import type { Profile } from '../profile/Profile.js'
import { hasFilterOptions } from './filterFlags.js'

/** The profile each program run loaded (keyed by the root command). */
const loaded = new WeakMap<Command, Profile>()

/**
 * Profile keys whose command-line flag has another name (the library's and rustic's plural names,
 * rustic's `filter-*` keys for restic's filter flags).
 */
const FLAG_OF_KEY: Readonly<Record<string, string>> = {
  repository: 'repo',
  tags: 'tag',
  excludes: 'exclude',
  iexcludes: 'iexclude',
  excludeFiles: 'excludeFile',
  iexcludeFiles: 'iexcludeFile',
  keepTags: 'keepTag',
  keepIds: 'keepId',
  filterHosts: 'host',
  filterPaths: 'path',
  filterTags: 'tag',
  filterLabels: 'filterLabel',
}

const camel = (kebab: string): string => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())

/** The root command of `cmd`. */
function rootOf(cmd: Command): Command {
  let c = cmd
  while (c.parent) c = c.parent
  return c
}

/** The profile loaded for this run of the program (undefined before the command's action). */
export function profileOf(cmd: Command): Profile | undefined {
  return loaded.get(rootOf(cmd))
}

/** The profile key an option takes its value from, and whether the flag negates it (`no-cache = true` is `--no-cache`). */
function keyOf(opt: Option, values: Record<string, unknown>): { key: string; negated: boolean } | undefined {
  const flag = camel((opt.long ?? '').replace(/^--/, ''))
  for (const key of Object.keys(values)) {
    if ((FLAG_OF_KEY[key] ?? key) === flag) return { key, negated: opt.negate }
    if (opt.negate && key === opt.attributeName()) return { key, negated: false } // `lock = false` is `--no-lock`
  }
  return undefined
}

/** A profile value as the option's value: through the option's own argument parser, as a typed flag would be. */
function optionValue(opt: Option, value: unknown, negated: boolean): unknown {
  if (!opt.required && !opt.optional) return negated ? !value : value
  const texts = (Array.isArray(value) ? value : [value]).map((v) => (v instanceof Date ? v.toISOString() : String(v)))
  if (opt.parseArg) {
    let acc: unknown = opt.defaultValue
    for (const t of texts) acc = opt.parseArg(t, acc)
    return acc
  }
  return opt.variadic ? texts : texts.join(',')
}

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)

/**
 * Gives the options of `cmd` that the command line and the environment leave unset the values of
 * `values` (profile keys, camelCase), with source `config`; options set so before and missing from
 * `values` go back to their defaults. A key without a flag is left to the command (it reads the profile's
 * library options); so is a table value.
 */
export function applyProfileValues(cmd: Command, values: Record<string, unknown>): void {
  for (const opt of cmd.options) {
    const attr = opt.attributeName()
    const source = cmd.getOptionValueSource(attr)
    if (source === 'cli' || source === 'env' || source === 'implied') continue
    const k = keyOf(opt, values)
    if (k !== undefined && values[k.key] !== undefined && !isPlainObject(values[k.key])) {
      cmd.setOptionValueWithSource(attr, optionValue(opt, values[k.key], k.negated), 'config')
    } else if (source === 'config') {
      cmd.setOptionValueWithSource(attr, opt.defaultValue, 'default')
    }
  }
}

type Values = Record<string, unknown>

/** The profile values for the options of the program itself: `[global]` and `[repository]` but the password (see `credentialsFrom`). */
function programValues(p: Profile, credentialKeys: readonly string[]): Values {
  const repository = { ...(p.settings['repository'] as Values | undefined) }
  for (const k of credentialKeys) delete repository[k]
  return { ...(p.settings['global'] as Values | undefined), ...repository }
}

/** Sections that also give defaults to another command's flags: `[prune]` to `forget --prune`'s prune flags. */
const SECTIONS_UNDER: Readonly<Record<string, readonly string[]>> = { forget: ['prune'] }

/**
 * The profile values for a command's options: `[global]`'s, `[snapshot-filter]`'s for commands that
 * filter snapshots, then the sections under its own (`[prune]` for `forget`), then its own section's
 * (`[forget]` for `forget`).
 */
export function commandValues(p: Profile, cmd: Command, section: Values = (p.settings[camel(cmd.name())] as Values | undefined) ?? {}): Values {
  const isTopLevel = cmd.parent !== null && cmd.parent.parent === null
  const under = isTopLevel ? (SECTIONS_UNDER[cmd.name()] ?? []).map((s) => p.settings[s] as Values | undefined) : []
  return {
    ...(p.settings['global'] as Values | undefined),
    ...(hasFilterOptions(cmd) ? (p.settings['snapshotFilter'] as Values | undefined) : {}),
    ...Object.assign({}, ...under),
    ...(isTopLevel ? section : {}),
  }
}

/**
 * Adds `-P/--use-profile` and the hook that loads the profiles before a command runs: their `[global.env]`
 * goes into the environment (where not set), and their values become the defaults of the program's and the
 * command's options, under the command line and the environment. The profile code (and the library's option
 * schemas it checks profiles with) is loaded by that hook, so `--help`, `--version` and usage errors do not load it.
 */
export function withProfiles(program: Command, collect: (value: string, previous?: string[]) => string[]): Command {
  return program
    .addOption(
      new Option('-P, --use-profile <name>', 'read the profile NAME.toml (repeatable, later ones win; default: rustic)')
        .env('RUSTIC_USE_PROFILE')
        .argParser(collect),
    )
    .hook('preAction', async (root, action) => {
      const names = (root.opts() as { useProfile?: string[] }).useProfile ?? []
      const [{ loadProfiles }, { CREDENTIAL_KEYS }] = await Promise.all([import('../profile/loadProfiles.js'), import('../profile/mergeProfileSettings.js')])
      const profile = await loadProfiles(names, { env: process.env })
      loaded.set(root, profile)
      for (const w of profile.warnings) process.stderr.write(`warning: ${w}\n`)
      for (const [k, v] of Object.entries(profile.global.env)) if (process.env[k] === undefined) process.env[k] = v
      applyProfileValues(root, programValues(profile, CREDENTIAL_KEYS))
      if (action !== root) applyProfileValues(action, commandValues(profile, action))
    })
}

/**
 * A command's library options: the profile's (keys without a flag included) under those built from the
 * flags, which already hold the profile's values where the command line left them unset. Tables (`local`)
 * are merged key by key; an undefined value of `flags` leaves the profile's.
 */
export function withProfileOptions<T extends object>(fromProfile: object | undefined, flags: T): T {
  const out: Record<string, unknown> = { ...(fromProfile as Record<string, unknown> | undefined) }
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? withProfileOptions(out[k] as object, v as object) : v
  }
  return out as T
}
