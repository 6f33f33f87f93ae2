import type { Command } from 'commander'
import { RusticError, type Credentials } from '@rustic-ts/core'

/** Options every command accepts (DESIGN.md §5). */
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
  opendal: string[]
  /** False with `--no-lock`. */
  lock: boolean
  /** `--retry-lock DURATION`. */
  retryLock?: string
}

/** The global options as seen from a subcommand, with environment fallbacks applied. */
export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as GlobalOptions
  return { ...o, repo: o.repo ?? process.env['RUSTIC_REPOSITORY'], opendal: o.opendal ?? [] }
}

/** Credentials from flags, then `RUSTIC_PASSWORD`, `RUSTIC_PASSWORD_FILE`, `RUSTIC_PASSWORD_COMMAND`. */
export function credentialsFrom(g: GlobalOptions): Credentials {
  if (g.passwordFile) return { passwordFile: g.passwordFile }
  if (g.passwordCommand) return { passwordCommand: g.passwordCommand }
  const env = process.env
  if (env['RUSTIC_PASSWORD'] !== undefined) return { password: env['RUSTIC_PASSWORD'] }
  if (env['RUSTIC_PASSWORD_FILE']) return { passwordFile: env['RUSTIC_PASSWORD_FILE'] }
  if (env['RUSTIC_PASSWORD_COMMAND']) return { passwordCommand: env['RUSTIC_PASSWORD_COMMAND'] }
  throw new RusticError(
    'Credentials',
    'no password given: use --password-file, --password-command or set RUSTIC_PASSWORD',
    { code: 'NoPassword' },
  )
}

/** Commander argument parser for a repeatable option: collects every value into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** `--opendal KEY=VALUE` pairs as a map. */
export function backendOptionMap(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of pairs) {
    const eq = p.indexOf('=')
    if (eq <= 0) throw new RusticError('InvalidInput', `bad --opendal option "${p}": expected KEY=VALUE`, { code: 'InvalidOptions' })
    out[p.slice(0, eq)] = p.slice(eq + 1)
  }
  return out
}
