import { z } from 'zod'

/** Options of {@link RcloneBackend}. */
export interface RcloneBackendOptions {
  /** The rclone program (a name looked up in `PATH`, or a path). Default `rclone`. */
  rcloneCommand?: string
  /**
   * Extra rclone arguments, put after `serve restic ...` and before the remote, e.g.
   * `['--config', '/dev/null']` (no config file), `['--transfers', '8']`, `['-v']`.
   */
  rcloneArgs?: string[]
  /**
   * True (default): speak HTTP/2 over rclone's stdin/stdout (`serve restic --stdio`, as restic does;
   * no port is opened). False: `serve restic --addr 127.0.0.1:0` with random Basic-auth credentials
   * (as rustic does), and HTTP/1.1 over TCP.
   */
  useStdio?: boolean
  /** How many requests may be in flight at once (HTTP/2 streams, or TCP connections). Default 5, as restic. */
  connections?: number
  /** How long in ms to wait for rclone to come up before giving up (and killing it). Default 30 000. */
  startupTimeoutMs?: number
  /** After `SIGTERM`, how long in ms to wait for rclone to exit before `SIGKILL`. Default 5000. */
  stopTimeoutMs?: number
  /** Idle timeout in ms of one request (no response headers or body bytes for this long). Default 120 000. */
  timeoutMs?: number
  /** Run `rclone version` first and refuse versions that cannot serve restic. Default true. */
  checkVersion?: boolean
  /** Receives every line rclone writes to stderr (by default they are only kept for error messages). */
  onStderr?: (line: string) => void
}

/** zod schema of {@link RcloneBackendOptions}, with defaults. */
export const RcloneBackendOptionsSchema = z.object({
  rcloneCommand: z.string().min(1).default('rclone'),
  rcloneArgs: z.array(z.string()).default([]),
  useStdio: z.boolean().default(true),
  connections: z.number().int().min(1).max(256).default(5),
  startupTimeoutMs: z.number().int().positive().default(30_000),
  stopTimeoutMs: z.number().int().nonnegative().default(5000),
  timeoutMs: z.number().int().positive().default(120_000),
  checkVersion: z.boolean().default(true),
  onStderr: z.custom<(line: string) => void>((v) => typeof v === 'function').optional(),
})

/** {@link RcloneBackendOptions} with defaults applied. */
export type ResolvedRcloneBackendOptions = z.output<typeof RcloneBackendOptionsSchema>
