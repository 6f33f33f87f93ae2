import type { Command } from 'commander'
import { RusticError, type Credentials } from '@rustic-ts/core'
import type { Profile } from '../profile/Profile.js'
import { canPrompt, promptPassword } from './passwordPrompt.js'
import { profileOf } from './profileOptions.js'

/** Options every command accepts (restic's global flags, and rustic's hot/cold and cache flags). */
export interface GlobalOptions {
  repo?: string
  repoHot?: string
  passwordFile?: string
  passwordCommand?: string
  cacheDir?: string
  /** False with `--no-cache`. */
  cache: boolean
  json?: boolean
  /** False with `--no-progress`. */
  progress: boolean
  /** `-o/--option KEY=VALUE` and its older name `--opendal`, in the order given. */
  option: string[]
  /** False with `--no-lock`. */
  lock: boolean
  /** `--retry-lock DURATION`. */
  retryLock?: string
  /** `-q/--quiet`: no progress and no summaries, only warnings and errors. */
  quiet?: boolean
  /** `-v/--verbose`, counted (`-vv` is 2). */
  verbose: number
  /** The profiles loaded for this run (`-P`): their values are already the defaults of the flags above. */
  profile?: Profile
}

/** The first environment variable of `names` that is set (restic's `RESTIC_*` names come after rustic's). */
export function env(...names: string[]): string | undefined {
  for (const n of names) if (process.env[n] !== undefined) return process.env[n]
  return undefined
}

/** The global options as seen from a subcommand, with environment fallbacks applied. */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Omit<GlobalOptions, 'option'> & { option?: string[]; opendal?: string[] }
  return {
    ...o,
    // -r, else the profile's repository (RUSTIC_REPOSITORY overrides it there), else restic's variable
    repo: o.repo ?? (env('RUSTIC_REPOSITORY', 'RESTIC_REPOSITORY') || undefined),
    option: [...(o.option ?? []), ...(o.opendal ?? [])],
    verbose: o.verbose ?? 0,
    progress: o.progress && !o.quiet,
    profile: profileOf(cmd),
  }
}

/**
 * Credentials from `-p/--password-file` or `--password-command`, then `RUSTIC_PASSWORD`,
 * `RUSTIC_PASSWORD_FILE`, `RUSTIC_PASSWORD_COMMAND`, then the profile's, then restic's `RESTIC_PASSWORD`,
 * `RESTIC_PASSWORD_FILE`, `RESTIC_PASSWORD_COMMAND`; else, on a terminal, a prompt that does not echo
 * (twice for a new repository, as restic asks).
 */
export async function credentialsFrom(g: GlobalOptions, newRepository = false): Promise<Credentials> {
  if (g.passwordFile) return { passwordFile: g.passwordFile }
  if (g.passwordCommand) return { passwordCommand: g.passwordCommand }
  for (const prefix of ['RUSTIC', 'RESTIC']) {
    const password = process.env[`${prefix}_PASSWORD`]
    if (password !== undefined) return { password }
    const file = process.env[`${prefix}_PASSWORD_FILE`]
    if (file) return { passwordFile: file }
    const command = process.env[`${prefix}_PASSWORD_COMMAND`]
    if (command) return { passwordCommand: command }
    if (prefix === 'RUSTIC' && g.profile?.repository.credentials) return g.profile.repository.credentials
  }
  if (canPrompt()) {
    return { password: await askPassword(newRepository ? 'enter password for new repository: ' : 'enter password for repository: ', newRepository) }
  }
  throw new RusticError(
    'Credentials',
    'no password given: use -p/--password-file, --password-command or set RUSTIC_PASSWORD (or RESTIC_PASSWORD)',
    { code: 'NoPassword' },
  )
}

/** Asks for a password on the terminal; a new one twice, and the two must match. */
export async function askPassword(prompt: string, twice: boolean): Promise<string> {
  const password = await promptPassword(prompt)
  if (password === '') throw new RusticError('Credentials', 'an empty password is not allowed', { code: 'NoPassword' })
  if (twice && (await promptPassword('enter password again: ')) !== password) {
    throw new RusticError('Credentials', 'passwords do not match', { code: 'NoPassword' })
  }
  return password
}

/** Commander argument parser for a repeatable option: collects every value into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** Commander argument parser for a counted flag (`-vv`). */
export function increase(_value: string, previous = 0): number {
  return previous + 1
}

/**
 * Names restic and rustic-ts give backends, as prefixes of `-o` keys (`s3.region`, `local.layout`). An
 * option prefixed with one that names no backend in use is left out, as restic leaves out the options of
 * other backends (`copy` opens two repositories with one `-o` list).
 */
const BACKEND_PREFIXES = ['local', 'rest', 'rclone', 'opendal', 'sftp', 's3', 'azure', 'azblob', 'gs', 'gcs', 'swift', 'b2', 'webdav', 'fs', 'memory']

/**
 * `-o KEY=VALUE` pairs as a map. A restic-style prefix naming the backend in use (`local.layout=...`,
 * `rest.connections=5`, `s3.region=...` for `opendal:s3`) is dropped: `prefixes` are the names it may have;
 * an option prefixed with another backend's name is left out. `unprefixed: false` leaves out the options
 * without a prefix too (`copy`'s source on another kind of backend than the target).
 */
export function backendOptionMap(pairs: string[], prefixes: readonly string[] = [], unprefixed = true): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of pairs) {
    const eq = p.indexOf('=')
    if (eq <= 0) throw new RusticError('InvalidInput', `bad -o/--option "${p}": expected KEY=VALUE`, { code: 'InvalidOptions' })
    let key = p.slice(0, eq)
    const dot = key.indexOf('.')
    const prefix = dot > 0 ? key.slice(0, dot).toLowerCase() : undefined
    if (prefix !== undefined && prefixes.includes(prefix)) key = key.slice(dot + 1)
    else if (prefix !== undefined && BACKEND_PREFIXES.includes(prefix)) continue
    else if (!unprefixed) continue
    out[key] = p.slice(eq + 1)
  }
  return out
}
