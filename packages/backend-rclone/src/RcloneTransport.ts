import type { RestRequest, RestResponse, RestTransport } from '@rustic-ts/backend-rest'
import type { ResolvedRcloneBackendOptions } from './RcloneBackendOptions.js'
import { RcloneServer } from './RcloneServer.js'
import { checkRcloneVersion } from './rcloneVersion.js'

/**
 * A transport that starts `rclone serve restic` on the first request and stops it on `close()`.
 * One child at a time; if it dies, the next request starts a new one.
 */
export class RcloneTransport implements RestTransport {
  private server: Promise<RcloneServer> | undefined
  private versionChecked = false

  /**
   * @param remotePath - the rclone remote path.
   * @param printable - the remote path without secrets.
   * @param options - resolved backend options.
   */
  constructor(
    private readonly remotePath: string,
    private readonly printable: string,
    private readonly options: ResolvedRcloneBackendOptions,
  ) {}

  /** The pid of the running rclone, if one is running. */
  pid: number | undefined

  /** Starts rclone if needed, then sends the request to it. */
  async request(req: RestRequest): Promise<RestResponse> {
    const server = await this.start()
    return server.transport.request(req)
  }

  /** Starts rclone now (otherwise the first request does). */
  start(): Promise<RcloneServer> {
    if (this.server === undefined) {
      const started = this.launch()
      this.server = started
      started.then(
        (s) => {
          this.pid = s.child.pid
          void s.whenExited.then(() => {
            if (this.server === started) this.server = undefined
            if (this.pid === s.child.pid) this.pid = undefined
          })
        },
        () => {
          if (this.server === started) this.server = undefined
        },
      )
    }
    return this.server
  }

  /** Stops rclone (if running) and waits until it has exited. */
  async close(): Promise<void> {
    const started = this.server
    this.server = undefined
    if (started === undefined) return
    let server: RcloneServer
    try {
      server = await started
    } catch {
      return // it never came up
    }
    await server.stop()
    this.pid = undefined
  }

  private async launch(): Promise<RcloneServer> {
    const o = this.options
    if (o.checkVersion && !this.versionChecked) {
      await checkRcloneVersion(o.rcloneCommand, o.useStdio, o.startupTimeoutMs)
      this.versionChecked = true
    }
    return RcloneServer.start(this.remotePath, this.printable, o)
  }
}
