import { readFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join, resolve, sep } from 'node:path'
import { RusticError } from '@rustic-ts/core'
import type { WarningHandler, WriteBackend } from '@rustic-ts/core'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Htpasswd } from './Htpasswd.js'
import { parseListenAddress } from './parseListenAddress.js'
import { RepositoryQuota } from './RepositoryQuota.js'
import { RepositoryStores } from './RepositoryStores.js'
import { RestRequestHandler } from './RestRequestHandler.js'
import type { RequestRecord } from './RestRequestHandler.js'
import { parseRestServerOptions } from './RestServerOptions.js'
import type { Authenticator, RepositoryResolver, ResolvedRestServerOptions, RestServerOptions } from './RestServerOptions.js'
import { ServerMetrics } from './ServerMetrics.js'

/** Where a server listens (see {@link RestServer.listen}). */
export interface ListeningAddress {
  /** The bound address (`0.0.0.0`, `::`, `127.0.0.1`, ...). */
  address: string
  port: number
  /** A URL restic can use, e.g. `http://127.0.0.1:8000/` (`127.0.0.1` / `[::1]` for all-interfaces addresses). */
  url: string
}

/** A restic REST server made by {@link createRestServer}. */
export interface RestServer {
  /** The Node server (HTTPS with `tls`), not yet listening: call {@link RestServer.listen}, or listen yourself. */
  readonly server: HttpServer | HttpsServer
  /**
   * The request handler, to mount in an existing app instead of using `server`, e.g.
   * `app.use('/restic', rest.handler)` (Express strips the mount path from `req.url`).
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  /** The htpasswd file in use, if any (call `reload()` on it after editing the file, e.g. on SIGHUP). */
  readonly htpasswd: Htpasswd | undefined
  /** The metrics (with `metrics: true`). */
  readonly metrics: ServerMetrics | undefined
  /** Starts listening on `address` (default: the `listen` option). */
  listen(address?: string): Promise<ListeningAddress>
  /**
   * Shuts down gracefully: stops accepting connections, answers new requests on open connections with
   * 503, lets requests in progress (uploads included) finish — for at most `shutdownTimeoutMs`, then
   * drops their connections — and closes the backends it opened.
   */
  close(): Promise<void>
}

/**
 * A server for restic clients (REST protocol v1 and v2, as restic's rest-server) over any rustic-ts
 * storage: a local directory (`path`) or any `WriteBackend`, one per repository path (`backend`).
 *
 * ```ts
 * const rest = createRestServer({ path: '/srv/restic', htpasswdFile: '/etc/restic/htpasswd', appendOnly: true })
 * const { url } = await rest.listen('127.0.0.1:8000')
 * // restic -r rest:http://user:password@127.0.0.1:8000/user/ init
 * await rest.close()
 * ```
 * @throws RusticError `Configuration` for invalid options, an unreadable htpasswd file or TLS files.
 */
export function createRestServer(options: RestServerOptions): RestServer {
  const o = parseRestServerOptions(options)
  const warn: WarningHandler = o.onWarning ?? ((m) => void process.stderr.write(`rest-server: ${m}\n`))
  const { authenticate, htpasswd } = authenticatorOf(o, warn)
  const { resolver, owns } = resolverOf(o)
  const stores = new RepositoryStores(resolver, owns)
  const metrics = o.metrics ? new ServerMetrics() : undefined
  const active = new Set<Promise<void>>()
  let closing: Promise<void> | undefined
  const handlerImpl = new RestRequestHandler(o, {
    authenticate,
    stores,
    quota: o.maxSize > 0 ? new RepositoryQuota(o.maxSize) : undefined,
    metrics,
    warn,
    closing: () => closing !== undefined,
  })

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now()
    const rec: RequestRecord = { bytesIn: 0, bytesOut: 0 }
    if (o.accessLog !== undefined) {
      const log = o.accessLog
      res.once('close', () => {
        const url = req.url ?? ''
        const q = url.indexOf('?')
        const path = q < 0 ? url : url.slice(0, q)
        try {
          log({
            time: new Date(started).toISOString(),
            remote: req.socket.remoteAddress ?? '',
            ...(rec.user === undefined ? {} : { user: rec.user }),
            method: req.method ?? '',
            path: path.length > 1024 ? path.slice(0, 1024) : path,
            status: res.headersSent ? res.statusCode : 0,
            bytesIn: rec.bytesIn,
            bytesOut: rec.bytesOut,
            durationMs: Date.now() - started,
          })
        } catch (err) {
          warn('the access log failed', err)
        }
      })
    }
    const p = handlerImpl.handle(req, res, rec).finally(() => active.delete(p))
    active.add(p)
  }

  const server = o.tls === undefined ? createHttpServer(handler) : createHttpsServer(tlsOptions(o.tls), handler)
  // No limit on the time to receive a whole request (large uploads); idle connections are closed instead.
  server.requestTimeout = 0
  // Longer than Go's idle-connection timeout (90 s), so that restic, not the server, closes idle connections.
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 125_000
  server.timeout = o.idleTimeoutMs

  return {
    server,
    handler,
    htpasswd,
    metrics,
    listen: (address = o.listen) => listen(server, address, o.tls !== undefined),
    close: () => {
      closing ??= (async () => {
        const stopped = server.listening ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve()
        server.closeIdleConnections()
        const timer = setTimeout(() => server.closeAllConnections(), o.shutdownTimeoutMs)
        try {
          while (active.size > 0) await Promise.allSettled([...active])
          server.closeIdleConnections()
          await stopped
        } finally {
          clearTimeout(timer)
          await stores.close()
        }
      })()
      return closing
    },
  }
}

function authenticatorOf(o: ResolvedRestServerOptions, warn: WarningHandler): { authenticate: Authenticator | undefined; htpasswd: Htpasswd | undefined } {
  if (o.noAuth) return { authenticate: undefined, htpasswd: undefined }
  if (o.authenticate !== undefined) return { authenticate: o.authenticate, htpasswd: undefined }
  const file = o.htpasswdFile ?? (o.path === undefined ? undefined : join(o.path, '.htpasswd'))
  if (file === undefined) {
    throw new RusticError('Configuration', 'no authentication configured: give htpasswdFile or authenticate, or set noAuth (--no-auth)', {
      code: 'InvalidOptions',
    })
  }
  const htpasswd = new Htpasswd(file, warn)
  return { authenticate: (user, password) => htpasswd.verify(user, password), htpasswd }
}

function resolverOf(o: ResolvedRestServerOptions): { resolver: RepositoryResolver; owns: boolean } {
  if (o.path !== undefined) {
    const root = resolve(o.path)
    return {
      owns: true,
      resolver: (path) => {
        const dir = resolve(root, ...path)
        // parseRequestPath admits plain names only; this keeps every repository inside the root regardless
        if (dir !== root && !dir.startsWith(root + sep)) return undefined
        return new LocalBackend(dir, { fsync: o.fsync })
      },
    }
  }
  const b = o.backend!
  if (typeof b === 'function') return { resolver: b, owns: true }
  const one: WriteBackend = b
  return { resolver: (path) => (path.length === 0 ? one : undefined), owns: false }
}

function tlsOptions(tls: NonNullable<ResolvedRestServerOptions['tls']>): { cert: Buffer; key: Buffer; minVersion: 'TLSv1.2' | 'TLSv1.3' } {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new RusticError('Configuration', `cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        code: 'InvalidOptions',
        cause: err,
      })
    }
  }
  return { cert: read(tls.certFile, 'certificate'), key: read(tls.keyFile, 'key'), minVersion: tls.minVersion === '1.3' ? 'TLSv1.3' : 'TLSv1.2' }
}

async function listen(server: HttpServer | HttpsServer, address: string, tls: boolean): Promise<ListeningAddress> {
  const { host, port } = parseListenAddress(address)
  await new Promise<void>((resolveListen, reject) => {
    const onError = (err: Error): void => reject(new RusticError('Configuration', `cannot listen on ${address}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { code: 'ListenFailed', cause: err }))
    server.once('error', onError)
    server.listen({ host, port }, () => {
      server.off('error', onError)
      resolveListen()
    })
  })
  const a = server.address() as AddressInfo
  const shown = a.address === '0.0.0.0' ? '127.0.0.1' : a.address === '::' ? '[::1]' : a.family === 'IPv6' ? `[${a.address}]` : a.address
  return { address: a.address, port: a.port, url: `${tls ? 'https' : 'http'}://${shown}:${a.port}/` }
}
