import { z } from 'zod'
import { RusticError, parseOptions } from '@rustic-ts/core'
import type { WarningHandler, WriteBackend } from '@rustic-ts/core'

/**
 * Gives the backend of the repository at `path` below the server root (`[]` for the root itself,
 * `['alice']`, `['alice', 'laptop']`), or `undefined` if there is none (the request is answered 404).
 * Called once per repository path; the server keeps the backend until it closes, then calls its `close()`.
 */
export type RepositoryResolver = (path: readonly string[]) => WriteBackend | undefined | Promise<WriteBackend | undefined>

/** Checks HTTP Basic credentials; true lets the request through as `user`. */
export type Authenticator = (user: string, password: string) => boolean | Promise<boolean>

/** One line of the access log: never credentials, never the query string. */
export interface AccessLogEntry {
  /** When the request arrived (ISO 8601). */
  time: string
  /** The client's address. */
  remote: string
  /** The authenticated user, if any. */
  user?: string
  method: string
  /** The request path (at most 1024 characters). */
  path: string
  /** The response status (0 if the connection ended before a response was sent). */
  status: number
  /** Body bytes received. */
  bytesIn: number
  /** Body bytes sent. */
  bytesOut: number
  /** Time from the request to the end of the response, in ms. */
  durationMs: number
}

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `${what} must be a function` })
const isBackend = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && ['location', 'list', 'listWithSize', 'readFull', 'readPartial', 'create', 'writeBytes', 'remove'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')

/** zod schema of {@link RestServerOptions}, with defaults. */
export const RestServerOptionsSchema = z
  .object({
    /**
     * A local directory whose subdirectories (up to two levels) are repositories, stored by
     * `LocalBackend` in restic's layout (rest-server's `--path`). Give this or `backend`.
     */
    path: z.string().min(1).optional(),
    /**
     * Any storage: one `WriteBackend` (served as the repository at `/`) or a {@link RepositoryResolver}
     * giving one backend per repository path. Give this or `path`.
     */
    backend: z
      .custom<WriteBackend | RepositoryResolver>((v) => typeof v === 'function' || isBackend(v), {
        message: 'backend must be a WriteBackend or a function giving one per repository path',
      })
      .optional(),
    /** Refuse `DELETE` except of locks (rest-server's `--append-only`). */
    appendOnly: z.boolean().default(false),
    /** A user may only reach repositories whose first path name is their user name (`--private-repos`). */
    privateRepos: z.boolean().default(false),
    /** Refuse creating repositories and writing or deleting anything but locks. */
    readOnly: z.boolean().default(false),
    /** Turn authentication off (`--no-auth`). */
    noAuth: z.boolean().default(false),
    /** The htpasswd file (bcrypt or SHA entries); default `<path>/.htpasswd` when `path` is given. */
    htpasswdFile: z.string().min(1).optional(),
    /** Checks credentials instead of an htpasswd file. */
    authenticate: fn<Authenticator>('authenticate').optional(),
    /** Check that the SHA-256 of each upload (but the config) is its name; false is `--no-verify-upload`. */
    verifyUploads: z.boolean().default(true),
    /** Largest size in bytes of one repository (uploads beyond it are answered 507); 0: no limit (`--max-size`). */
    maxSize: z.number().int().min(0).default(0),
    /** Largest request body in bytes (larger ones are answered 413); 0: no limit. Default 256 MiB. */
    maxRequestSize: z.number().int().min(0).default(256 * 1024 * 1024),
    /** Serve HTTPS with this certificate and key (PEM files). */
    tls: z
      .object({
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        /** Lowest TLS version accepted. Default `1.2`. */
        minVersion: z.enum(['1.2', '1.3']).default('1.2'),
      })
      .strict()
      .optional(),
    /** Where `listen()` listens by default: `HOST:PORT`, `:PORT` (all interfaces) or `[IPv6]:PORT`. Default `:8000`. */
    listen: z.string().min(1).default(':8000'),
    /** Receives one entry per request. */
    accessLog: fn<(entry: AccessLogEntry) => void>('accessLog').optional(),
    /** Receives server-side problems (storage errors answered 500, skipped htpasswd lines). Default: stderr. */
    onWarning: fn<WarningHandler>('onWarning').optional(),
    /** Serve Prometheus metrics on `/metrics` (`--prometheus`). */
    metrics: z.boolean().default(false),
    /** `/metrics` without authentication (`--prometheus-no-auth`). */
    metricsNoAuth: z.boolean().default(false),
    /** With `path`: fsync files and directories after writes (as rest-server). Default true. */
    fsync: z.boolean().default(true),
    /** How long `close()` waits for requests in progress before dropping their connections, in ms. Default 30 000. */
    shutdownTimeoutMs: z.number().int().min(0).default(30_000),
    /** A connection without traffic for this long is closed, in ms; 0: never. Default 300 000. */
    idleTimeoutMs: z.number().int().min(0).default(300_000),
  })
  .strict()

/** Options of {@link createRestServer}. */
export type RestServerOptions = z.input<typeof RestServerOptionsSchema>

/** {@link RestServerOptions} with defaults applied. */
export type ResolvedRestServerOptions = z.output<typeof RestServerOptionsSchema>

/**
 * Validates options: a `RusticError` (code `InvalidOptions`) naming the field, never a raw zod error.
 * @throws RusticError `InvalidOptions`.
 */
export function parseRestServerOptions(input: RestServerOptions): ResolvedRestServerOptions {
  const o = parseOptions(RestServerOptionsSchema, input, 'REST server options')
  if ((o.path === undefined) === (o.backend === undefined)) {
    throw new RusticError('Configuration', 'REST server options: give exactly one of path (a directory) and backend', {
      code: 'InvalidOptions',
    })
  }
  return o
}
