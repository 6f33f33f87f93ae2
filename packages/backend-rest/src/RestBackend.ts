import { parseOptions } from '@rustic-ts/core'
import { RestBackendOptionsSchema } from './RestBackendOptions.js'
import type { RestBackendOptions } from './RestBackendOptions.js'
import { RestProtocolBackend } from './RestProtocolBackend.js'
import { parseRestUrl } from './RestUrl.js'
import { UndiciTransport } from './UndiciTransport.js'

/**
 * A repository on a restic REST server (rest-server, `rclone serve restic --addr`, rustic-ts's own
 * server), over HTTP/1.1 or HTTPS with kept-alive connections (undici).
 *
 * ```ts
 * const backend = new RestBackend('http://user:secret@127.0.0.1:8000/repo/', { timeoutMs: 60_000 })
 * ```
 * User name and password come from the URL and are sent as HTTP Basic auth; `location()` and error
 * messages show the URL without the password.
 */
export class RestBackend extends RestProtocolBackend {
  /**
   * @param url - `http[s]://[user:password@]host[:port]/path[/]` (a leading `rest:` is accepted).
   * @param options - timeouts, TLS and connection settings (see {@link RestBackendOptions}).
   * @throws RusticError `Configuration` for an invalid URL or options.
   */
  constructor(url: string, options: RestBackendOptions = {}) {
    const o = parseOptions(RestBackendOptionsSchema, options, 'REST backend options')
    const u = parseRestUrl(url)
    const transport = new UndiciTransport(u.baseUrl, {
      ...(u.authorization !== undefined ? { authorization: u.authorization } : {}),
      timeoutMs: o.timeoutMs,
      connectTimeoutMs: o.connectTimeoutMs,
      ...(o.caFile !== undefined ? { caFile: o.caFile } : {}),
      insecureTls: o.insecureTls,
      connections: o.connections,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs,
    })
    super(transport, u.location, { headConcurrency: o.headConcurrency })
  }
}
