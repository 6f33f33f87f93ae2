import { z } from 'zod'

/** Options of `RestBackend`, with defaults. */
export const RestBackendOptionsSchema = z.object({
  /**
   * Idle timeout in ms: a request fails (with a transient `Network` error) when the server sends no
   * response headers, or no body bytes, for this long. Default 120 000.
   */
  timeoutMs: z.number().int().positive().default(120_000),
  /** Timeout in ms for opening a TCP/TLS connection. Default 30 000. */
  connectTimeoutMs: z.number().int().positive().default(30_000),
  /** A PEM file of CA certificates to trust for `https:` (e.g. a self-signed server certificate). */
  caFile: z.string().min(1).optional(),
  /** Skip TLS certificate verification (like restic's `--insecure-tls`). Default false. */
  insecureTls: z.boolean().default(false),
  /** Maximum number of connections to the server (kept alive and reused). Default 5, as restic. */
  connections: z.number().int().min(1).max(1024).default(5),
  /** How many `HEAD` requests may run at once when a v1 server lists without sizes. Default 8. */
  headConcurrency: z.number().int().min(1).max(1024).default(8),
  /** How long in ms an idle kept-alive connection stays open. Default 30 000. */
  keepAliveTimeoutMs: z.number().int().positive().default(30_000),
})

/** Options of `RestBackend`; see {@link RestBackendOptionsSchema} for defaults. */
export type RestBackendOptions = z.input<typeof RestBackendOptionsSchema>
