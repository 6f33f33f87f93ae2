// Loaded by dist/cli.js before the program: Node built-ins only.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'

/** The local repository and the password a command line will open it with, as far as they can be known before the program loads. */
export interface EarlyKeyTarget {
  /** The repository directory (absolute). */
  repository: string
  /** The password (held only until the early derivation is consumed). */
  password: string
  /** The command (one of {@link OPENING_COMMANDS}). */
  command: string
}

/** The program's options (`program.ts`): whether each takes a value, by every name it has. A test holds it to the program's. */
export const PROGRAM_OPTIONS: ReadonlyMap<string, { name: string; value: boolean }> = new Map(
  (
    [
      [['-r', '--repo'], true],
      [['--repo-hot'], true],
      [['-p', '--password-file'], true],
      [['--password-command'], true],
      [['--cache-dir'], true],
      [['--no-cache'], false],
      [['--json'], false],
      [['-q', '--quiet'], false],
      [['-v', '--verbose'], false],
      [['--no-progress'], false],
      [['-o', '--option'], true],
      [['--opendal'], true],
      [['--no-lock'], false],
      [['--retry-lock'], true],
      [['-P', '--use-profile'], true],
    ] as const
  ).flatMap(([names, value]) => names.map((n) => [n, { name: names[names.length - 1]!, value }] as const)),
)

/** Commands whose action opens the repository named by `-r` with the password of the global options. */
export const OPENING_COMMANDS: ReadonlySet<string> = new Set([
  'backup', 'cat', 'check', 'config', 'copy', 'diff', 'dump', 'find', 'forget', 'key', 'list', 'ls', 'merge', 'prune',
  'repair', 'repoinfo', 'restore', 'snapshots', 'stats', 'tag', 'unlock',
])

/** Help and version flags (of the program or any command): nothing is opened. */
const HELP = new Set(['-h', '--help', '-V', '--version'])

/** `scheme:` at the start of a repository string (as `backendsFromOptions` reads it). */
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):/

type Env = Readonly<Record<string, string | undefined>>

/** The program options of a command line, read as commander reads them (it takes them anywhere before `--`). */
interface ProgramArgs {
  command?: string
  values: Map<string, string>
  flags: Set<string>
}

function programArgs(argv: readonly string[]): ProgramArgs | undefined {
  const out: ProgramArgs = { values: new Map(), flags: new Set() }
  const args = argv.slice(2)
  let unknownBeforeCommand = false
  for (let i = 0, group: string | undefined; i < args.length || group !== undefined; ) {
    const arg = group ?? args[i++]!
    group = undefined
    if (arg === '--') break
    if (HELP.has(arg)) return undefined
    const isOption = arg.length > 1 && arg[0] === '-'
    const exact = isOption ? PROGRAM_OPTIONS.get(arg) : undefined
    if (exact !== undefined) {
      if (!exact.value) out.flags.add(exact.name)
      else if (i < args.length) out.values.set(exact.name, args[i++]!)
      else return undefined // commander reports the missing value
      continue
    }
    if (arg.length > 2 && arg[0] === '-' && arg[1] !== '-') {
      const first = PROGRAM_OPTIONS.get(`-${arg[1]}`)
      if (first !== undefined) {
        if (first.value) out.values.set(first.name, arg.slice(2))
        else {
          out.flags.add(first.name)
          group = `-${arg.slice(2)}`
        }
        continue
      }
      if (arg.includes('h')) return undefined // perhaps a command's short flags with -h in them
    }
    if (/^--[^=]+=/.test(arg)) {
      const eq = arg.indexOf('=')
      const opt = PROGRAM_OPTIONS.get(arg.slice(0, eq))
      if (opt?.value) {
        out.values.set(opt.name, arg.slice(eq + 1))
        continue
      }
    }
    if (isOption) {
      if (out.command === undefined) unknownBeforeCommand = true
    } else if (out.command === undefined && !unknownBeforeCommand) {
      out.command = arg
    }
  }
  return unknownBeforeCommand ? undefined : out
}

/** Whether a profile could give options or environment variables: `-P` or `RUSTIC_USE_PROFILE`, or a default profile file (`loadProfiles`' places). */
function mayUseProfile(args: ProgramArgs, env: Env, cwd: string): boolean {
  if (args.values.has('--use-profile') || env['RUSTIC_USE_PROFILE'] !== undefined) return true
  const xdg = env['XDG_CONFIG_HOME']
  const config = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.config')
  return [join(config, 'rustic-ts'), '/etc/rustic-ts', cwd].some((dir) => existsSync(resolve(dir, 'rustic.toml')))
}

/** The password as `credentialsFrom` would find it; undefined for a command, a prompt or anything unusual. */
function passwordOf(args: ProgramArgs, env: Env): string | undefined {
  const file = args.values.get('--password-file')
  if (file) return passwordFromFile(file)
  if (args.values.get('--password-command')) return undefined
  for (const prefix of ['RUSTIC', 'RESTIC']) {
    const password = env[`${prefix}_PASSWORD`]
    if (password !== undefined) return password
    const file = env[`${prefix}_PASSWORD_FILE`]
    if (file) return passwordFromFile(file)
    if (env[`${prefix}_PASSWORD_COMMAND`]) return undefined
  }
  return undefined
}

/** A regular file's content, trimmed as `resolvePassword` trims it (a pipe or device is never read: its bytes would be gone for the command). */
function passwordFromFile(file: string): string | undefined {
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return undefined
  return readFileSync(file, 'utf8').trim()
}

/**
 * The repository and password of a command line, when they are certain before the program loads: a command
 * that opens a repository (no help or version flag), a local repository (`-r`/`--repo`, else
 * `RUSTIC_REPOSITORY`/`RESTIC_REPOSITORY`; a path or `local:PATH`) without `--repo-hot` or `-o` options,
 * a password from `-p`/`--password-file` or the password variables (no command, no prompt), and no profile
 * that could change any of it. Anything else gives undefined. I/O errors are the caller's to swallow.
 */
export function earlyKeyTarget(argv: readonly string[], env: Env, cwd = process.cwd()): EarlyKeyTarget | undefined {
  const args = programArgs(argv)
  if (args?.command === undefined || !OPENING_COMMANDS.has(args.command)) return undefined
  if (args.values.has('--repo-hot') || args.values.has('--option') || args.values.has('--opendal')) return undefined
  if (mayUseProfile(args, env, cwd)) return undefined
  const fromEnv = env['RUSTIC_REPOSITORY'] !== undefined ? env['RUSTIC_REPOSITORY'] : env['RESTIC_REPOSITORY']
  const repo = args.values.get('--repo') ?? (fromEnv || undefined)
  if (repo === undefined) return undefined
  const scheme = SCHEME_PREFIX.exec(repo)?.[1]?.toLowerCase()
  if (scheme !== undefined && scheme !== 'local') return undefined
  const path = scheme === undefined ? repo : repo.slice(repo.indexOf(':') + 1)
  if (path === '') return undefined
  const password = passwordOf(args, env)
  if (password === undefined) return undefined
  return { repository: resolve(cwd, path), password, command: args.command }
}
