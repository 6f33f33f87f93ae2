import { readFile } from 'node:fs/promises'
import { dirname, join, posix, resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { z } from 'zod'
import { RusticError } from '@rustic-ts/core'
import type { WarningHandler, WriteBackend } from '@rustic-ts/core'
import { backendFromString, loadBackendClasses, schemeOf } from '../backendsFromOptions.js'
import { sizeFlag } from './flagValues.js'

const size = z.union([z.number().int().min(0), z.string().min(1)])

/** The `[server]` table of a server configuration file: the `serve` flags, in kebab-case. */
export const ServeSettingsSchema = z
  .object({
    listen: z.string().min(1),
    'append-only': z.boolean(),
    'private-repos': z.boolean(),
    'read-only': z.boolean(),
    'htpasswd-file': z.string().min(1),
    'no-auth': z.boolean(),
    tls: z.boolean(),
    'tls-cert': z.string().min(1),
    'tls-key': z.string().min(1),
    'tls-min-ver': z.enum(['1.2', '1.3']),
    'max-size': size,
    'max-request-size': size,
    log: z.string().min(1),
    prometheus: z.boolean(),
    'prometheus-no-auth': z.boolean(),
    'no-verify-upload': z.boolean(),
  })
  .partial()
  .strict()

/** One `[backends.NAME]` table: a repository string and its backend options (as for `-r` and `-o`). */
export const ServeBackendSchema = z
  .object({
    /** A path, `local:PATH`, `opendal:SCHEME`, `rclone:REMOTE:PATH` or `rest:URL`: the root of the served repositories. */
    repository: z.string().min(1),
    /** Backend options (`root`, `bucket`, `endpoint`, credentials for opendal; `retries`, `timeout`, ...). */
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  })
  .strict()

/** A server configuration file (TOML). */
export const ServeConfigSchema = z
  .object({
    server: ServeSettingsSchema.default({}),
    backends: z.record(z.string(), ServeBackendSchema).default({}),
  })
  .strict()

/** A parsed server configuration file; relative paths in it are resolved against its folder. */
export type ServeConfig = z.output<typeof ServeConfigSchema>

/**
 * Reads a server configuration file:
 *
 * ```toml
 * [server]
 * listen = ":8000"
 * private-repos = true
 * htpasswd-file = "htpasswd"          # relative to this file
 *
 * [backends.local]
 * repository = "/srv/restic"
 *
 * [backends.s3]
 * repository = "opendal:s3"
 * options = { bucket = "backups", root = "/restic", region = "eu-west-1", access_key_id = "...", secret_access_key = "..." }
 * ```
 * @throws RusticError `Configuration` (code `InvalidConfigFile`) naming the file and the bad key.
 */
export async function readServeConfig(file: string): Promise<ServeConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new RusticError('Configuration', `cannot read server configuration ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      code: 'InvalidConfigFile',
      cause: err,
    })
  }
  let raw: unknown
  try {
    raw = parseToml(text)
  } catch (err) {
    throw new RusticError('Configuration', `server configuration ${file} is not valid TOML: ${(err as Error).message.split('\n')[0]}`, {
      code: 'InvalidConfigFile',
    })
  }
  const r = ServeConfigSchema.safeParse(raw)
  if (!r.success) {
    const issue = r.error.issues[0]!
    const where = issue.path.join('.')
    const what = issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message
    throw new RusticError('Configuration', `server configuration ${file}: ${where ? `${where}: ` : ''}${what}`, { code: 'InvalidConfigFile' })
  }
  const config = r.data
  const base = dirname(resolve(file))
  const s = config.server
  for (const k of ['htpasswd-file', 'tls-cert', 'tls-key'] as const) if (s[k] !== undefined) s[k] = resolve(base, s[k])
  if (s.log !== undefined && s.log !== '-') s.log = resolve(base, s.log)
  for (const b of Object.values(config.backends)) {
    if (schemeOf(b.repository) === 'local') {
      const path = b.repository.startsWith('local:') ? b.repository.slice('local:'.length) : b.repository
      b.repository = `local:${resolve(base, path)}`
    }
  }
  return config
}

/** A size from the configuration or a flag: bytes, or `10G`-style (restic's units), read as {@link sizeFlag} does. */
export function sizeValue(value: number | string, what: string): number {
  return typeof value === 'number' ? value : sizeFlag(what, value)
}

/**
 * Gives the backend of each repository path below a root named by a repository string: a local path
 * gets the subdirectory, `opendal:` the sub-`root`, `rclone:` and `rest:` the sub-path.
 */
export async function repositoryResolver(
  repository: string,
  options: Record<string, string | number | boolean>,
  onWarning: WarningHandler,
): Promise<(path: readonly string[]) => WriteBackend> {
  await loadBackendClasses([repository])
  const opts = Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)]))
  const scheme = schemeOf(repository)
  // fail at start, not at the first request, for a bad repository string or option
  backendFromString(repository, opts, onWarning)
  return (path) => {
    if (path.length === 0) return backendFromString(repository, opts, onWarning)
    switch (scheme) {
      case 'local': {
        const root = repository.startsWith('local:') ? repository.slice('local:'.length) : repository
        return backendFromString(`local:${join(root, ...path)}`, opts, onWarning)
      }
      case 'opendal': {
        const rootKey = Object.keys(opts).find((k) => k.toLowerCase() === 'root') ?? 'root'
        return backendFromString(repository, { ...opts, [rootKey]: posix.join(opts[rootKey] ?? '/', ...path) }, onWarning)
      }
      case 'rclone': {
        const base = repository.replace(/\/+$/, '')
        return backendFromString(`${base}${base.endsWith(':') ? '' : '/'}${path.join('/')}`, opts, onWarning)
      }
      case 'rest': {
        const sub = path.map(encodeURIComponent).join('/')
        return backendFromString(`${repository.replace(/\/+$/, '')}/${sub}/`, opts, onWarning)
      }
    }
  }
}
