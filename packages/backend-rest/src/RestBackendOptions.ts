import { z } from 'zod'

/** Options of {@link RestBackend}. */
export interface RestBackendOptions {
  /**
   * Idle timeout in ms: a request fails (with a transient `Network` error) when the server sends no
   * response headers, or no body bytes, for this long. Default 120 000.
   */
  timeoutMs?: number
  /** Timeout in ms for opening a TCP/TLS connection. Default 30 000. */
  connectTimeoutMs?: number
  /** A PEM file of CA certificates to trust for `https:` (e.g. a self-signed server certificate). */
  caFile?: string
  /** Skip TLS certificate verification (like restic's `--insecure-tls`). Default false. */
  insecureTls?: boolean
  /** Maximum number of connections to the server (kept alive and reused). Default 5, as restic. */
  connections?: number
  /** How many `HEAD` requests may run at once when a v1 server lists without sizes. Default 8. */
  headConcurrency?: number
  /** How long in ms an idle kept-alive connection stays open. Default 30 000. */
  keepAliveTimeoutMs?: number
}

/** zod schema of {@link RestBackendOptions}, with defaults. */
export const RestBackendOptionsSchema = z.object({
  timeoutMs: z.number().int().positive().default(120_000),
  connectTimeoutMs: z.number().int().positive().default(30_000),
  caFile: z.string().min(1).optional(),
  insecureTls: z.boolean().default(false),
  connections: z.number().int().min(1).max(1024).default(5),
  headConcurrency: z.number().int().min(1).max(1024).default(8),
  keepAliveTimeoutMs: z.number().int().positive().default(30_000),
})
