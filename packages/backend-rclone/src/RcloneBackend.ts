import { parseOptions, RusticError } from '@rustic-ts/core'
import { RestProtocolBackend } from '@rustic-ts/backend-rest'
import { RcloneBackendOptionsSchema } from './RcloneBackendOptions.js'
import type { RcloneBackendOptions } from './RcloneBackendOptions.js'
import { RcloneTransport } from './RcloneTransport.js'
import { redactRclonePath } from './redactRclonePath.js'

/**
 * A repository on any rclone remote. The backend starts `rclone serve restic --stdio <remote>` on
 * its first call and speaks the restic REST protocol as cleartext HTTP/2 over the child's
 * stdin/stdout, as restic does (no port is opened); `close()` stops rclone, and it is also stopped
 * when this process exits.
 *
 * ```ts
 * const backend = new RcloneBackend('b2:bucket/repo')            // a remote from the rclone config
 * const local = new RcloneBackend('/srv/repo', { rcloneArgs: ['--config', '/dev/null'] })
 * ```
 * rclone uses the user's rclone config (so configured remotes work); connection-string remotes
 * (`:s3,provider=...:bucket`) work without one, and their parameter values are hidden in `location()`.
 */
export class RcloneBackend extends RestProtocolBackend {
  private readonly rclone: RcloneTransport

  /**
   * @param remotePath - `remote:path`, `:backend,opt=value:path`, or a local path, as rclone takes it.
   * @param options - the rclone program and arguments, stdio or TCP, timeouts (see {@link RcloneBackendOptions}).
   * @throws RusticError `Configuration` for an empty path or invalid options.
   */
  constructor(remotePath: string, options: RcloneBackendOptions = {}) {
    const parsed = parseOptions(RcloneBackendOptionsSchema, options, 'rclone backend options')
    const path = remotePath.startsWith('rclone:') ? remotePath.slice('rclone:'.length) : remotePath
    if (path.length === 0) throw new RusticError('Configuration', 'the rclone remote path is empty')
    const printable = redactRclonePath(path)
    const transport = new RcloneTransport(path, printable, parsed)
    super(transport, `rclone:${printable}`)
    this.rclone = transport
  }

  /** The process id of the running rclone, or undefined when none runs (not started yet, or closed). */
  get pid(): number | undefined {
    return this.rclone.pid
  }

  /** Starts rclone now instead of on the first call (to surface configuration errors early). */
  async start(): Promise<void> {
    await this.rclone.start()
  }
}
