import { z } from 'zod'

/** Options of `RcloneBackend`, with defaults. */
export const RcloneBackendOptionsSchema = z.object({
  /** The rclone program (a name looked up in `PATH`, or a path). Default `rclone`. */
  rcloneCommand: z.string().min(1).default('rclone'),
  /**
   * Extra rclone arguments, put after `serve restic ...` and before the remote, e.g.
   * `['--config', '/dev/null']` (no config file), `['--transfers', '8']`, `['-v']`.
   */
  rcloneArgs: z.array(z.string()).default([]),
  /**
   * True (default): speak HTTP/2 over rclone's stdin/stdout (`serve restic --stdio`, as restic does;
   * no port is opened). False: `serve restic --addr 127.0.0.1:0` with random Basic-auth credentials
   * (as rustic does), and HTTP/1.1 over TCP.
   */
  useStdio: z.boolean().default(true),
  /** How many requests may be in flight at once (HTTP/2 streams, or TCP connections). Default 5, as restic. */
  connections: z.number().int().min(1).max(256).default(5),
  /** How long in ms to wait for rclone to come up before giving up (and killing it). Default 30 000. */
  startupTimeoutMs: z.number().int().positive().default(30_000),
  /** After `SIGTERM`, how long in ms to wait for rclone to exit before `SIGKILL`. Default 5000. */
  stopTimeoutMs: z.number().int().nonnegative().default(5000),
  /** Idle timeout in ms of one request (no response headers or body bytes for this long). Default 120 000. */
  timeoutMs: z.number().int().positive().default(120_000),
  /** Run `rclone version` first and refuse versions that cannot serve restic. Default true. */
  checkVersion: z.boolean().default(true),
  /** Receives every line rclone writes to stderr (by default they are only kept for error messages). */
  onStderr: z.custom<(line: string) => void>((v) => typeof v === 'function').optional(),
})

/** Options of `RcloneBackend`; see {@link RcloneBackendOptionsSchema} for defaults. */
export type RcloneBackendOptions = z.input<typeof RcloneBackendOptionsSchema>

/** {@link RcloneBackendOptions} with defaults applied. */
export type ResolvedRcloneBackendOptions = z.output<typeof RcloneBackendOptionsSchema>
