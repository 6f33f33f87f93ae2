import { createHash } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import basicAuth from 'basic-auth'
import { isBackendError, isRusticError } from '@rustic-ts/core'
import type { FileType, Id, WarningHandler } from '@rustic-ts/core'
import { KeyedMutex } from './KeyedMutex.js'
import { REST_DIR_OF, parseRequestPath } from './parseRequestPath.js'
import type { RepositoryQuota } from './RepositoryQuota.js'
import type { Body, RepositoryStore } from './RepositoryStore.js'
import type { RepositoryStores } from './RepositoryStores.js'
import type { Authenticator, ResolvedRestServerOptions } from './RestServerOptions.js'
import type { ServerMetrics } from './ServerMetrics.js'

/** Media types of the two listing formats. */
export const REST_V1 = 'application/vnd.x.restic.rest.v1'
export const REST_V2 = 'application/vnd.x.restic.rest.v2'

/** Repository paths have at most this many names (as rest-server). */
const MAX_DEPTH = 2

/** What the access log and metrics learn about one request while it is handled. */
export interface RequestRecord {
  user?: string
  repo?: string
  bytesIn: number
  bytesOut: number
}

/** One request for a file (or the config) of a repository. */
interface FileCall {
  req: IncomingMessage
  res: ServerResponse
  rec: RequestRecord
  store: RepositoryStore
  type: FileType
  /** The file's id (empty for the config). */
  id: Id
  signal: AbortSignal
}

/** A request refused with an HTTP status (and a short reason for the body). */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly closeConnection = false,
    readonly headers: Record<string, string> = {},
  ) {
    super(STATUS_CODES[status] ?? String(status))
  }
}

/** What {@link RestRequestHandler} works with besides the options. */
export interface HandlerParts {
  authenticate: Authenticator | undefined
  stores: RepositoryStores
  quota: RepositoryQuota | undefined
  metrics: ServerMetrics | undefined
  warn: WarningHandler
  /** True once the server is shutting down: responses then close their connection. */
  closing: () => boolean
}

/**
 * Answers one request of the restic REST protocol (v1 and v2) as rest-server does: authentication
 * (401), path checks (400/404), `--private-repos` (401), then the repository operation with
 * rest-server's status codes (403 for overwrites and refused deletes, 400 for uploads not matching
 * their name, 405 with `Allow`, 416 for bad ranges, 507 over the quota, 413 over the request limit).
 */
export class RestRequestHandler {
  private readonly names = new KeyedMutex()

  constructor(
    private readonly o: ResolvedRestServerOptions,
    private readonly parts: HandlerParts,
  ) {}

  /** Handles a request to the end (never rejects: failures become error responses and warnings). */
  async handle(req: IncomingMessage, res: ServerResponse, rec: RequestRecord): Promise<void> {
    const abort = new AbortController()
    const onClose = (): void => {
      if (!res.writableFinished) abort.abort()
    }
    res.once('close', onClose)
    try {
      await this.route(req, res, rec, abort.signal)
    } catch (err) {
      this.fail(req, res, err, abort.signal.aborted)
    } finally {
      res.off('close', onClose)
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, signal: AbortSignal): Promise<void> {
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const pathname = q < 0 ? url : url.slice(0, q)
    if (this.parts.closing()) throw new Refusal(503, true, { 'retry-after': '5' })
    if (this.parts.metrics !== undefined && pathname === '/metrics') return this.serveMetrics(req, res, rec)
    if (this.parts.authenticate !== undefined) {
      const user = await this.authenticate(req)
      if (user === undefined) throw unauthorized(req)
      rec.user = user
    }
    const parsed = parseRequestPath(pathname, MAX_DEPTH)
    if (!parsed.ok) throw new Refusal(parsed.status, hasBody(req))
    const { repo, resource } = parsed.target
    if (this.o.privateRepos && this.parts.authenticate !== undefined && repo[0] !== rec.user) throw unauthorized(req)
    rec.repo = repo.join('/')
    const store = await this.parts.stores.get(repo)
    if (store === undefined) throw new Refusal(404, hasBody(req))
    switch (resource.kind) {
      case 'root':
        if (method !== 'POST') throw notAllowed(req, 'POST')
        return this.createRepository(req, res, store, url.slice(q < 0 ? url.length : q + 1), signal)
      case 'config':
      case 'file': {
        const type: FileType = resource.kind === 'config' ? 'config' : resource.type
        const id = (resource.kind === 'config' ? '' : resource.id) as Id
        const call: FileCall = { req, res, rec, store, type, id, signal }
        switch (method) {
          case 'HEAD':
            return this.head(call)
          case 'GET':
            return this.get(call)
          case 'POST':
            return this.upload(call)
          case 'DELETE':
            return this.remove(call)
          default:
            throw notAllowed(req, 'HEAD, GET, POST, DELETE')
        }
      }
      case 'dir':
        if (method !== 'GET') throw notAllowed(req, 'GET')
        return this.list(req, res, store, resource.type, signal)
    }
  }

  /** The user, if the request carries valid Basic credentials. */
  private async authenticate(req: IncomingMessage): Promise<string | undefined> {
    const creds = basicAuth(req)
    if (creds === undefined) return undefined
    return (await this.parts.authenticate!(creds.name, creds.pass)) ? creds.name : undefined
  }

  private async serveMetrics(req: IncomingMessage, res: ServerResponse, rec: RequestRecord): Promise<void> {
    if (this.parts.authenticate !== undefined && !this.o.metricsNoAuth) {
      const user = await this.authenticate(req)
      if (user === undefined) throw unauthorized(req)
      rec.user = user
      // as rest-server: with private repositories only the user "metrics" may read them
      if (this.o.privateRepos && user !== 'metrics') throw unauthorized(req)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw notAllowed(req, 'GET, HEAD')
    const { contentType, text } = await this.parts.metrics!.render()
    this.send(req, res, rec, 200, { 'content-type': contentType }, Buffer.from(text))
  }

  private async createRepository(req: IncomingMessage, res: ServerResponse, store: RepositoryStore, query: string, signal: AbortSignal): Promise<void> {
    if (new URLSearchParams(query).get('create') !== 'true') throw new Refusal(400, hasBody(req))
    if (this.o.readOnly) throw new Refusal(403, hasBody(req))
    await store.create(signal)
    this.empty(res, 200)
  }

  private async head({ res, store, type, id, signal }: FileCall): Promise<void> {
    const size = await store.size(type, id, signal)
    this.writeHead(res, 200, { 'content-type': 'application/octet-stream', 'content-length': String(size), 'accept-ranges': 'bytes' })
    res.end()
  }

  private async get({ req, res, rec, store, type, id, signal }: FileCall): Promise<void> {
    const out = await store.read(type, id, req.headers.range, signal)
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' }
    if (out.kind === 'unsatisfiable') {
      throw new Refusal(416, false, out.size === undefined ? {} : { 'content-range': `bytes */${out.size}` })
    }
    let sent: number
    if (out.kind === 'full') {
      sent = out.size
      await this.sendBody(req, res, rec, 200, headers, out.body, sent)
    } else {
      sent = out.end - out.start + 1
      headers['content-range'] = `bytes ${out.start}-${out.end}/${out.size ?? '*'}`
      await this.sendBody(req, res, rec, 206, headers, out.body, sent)
    }
    this.count('read', rec, type, sent)
  }

  private async list(req: IncomingMessage, res: ServerResponse, store: RepositoryStore, type: FileType, signal: AbortSignal): Promise<void> {
    const v2 = acceptsV2(req.headers.accept)
    const body = v2
      ? JSON.stringify((await store.listWithSize(type, signal)).map(([name, size]) => ({ name, size })))
      : JSON.stringify(await store.list(type, signal))
    const data = Buffer.from(body)
    this.writeHead(res, 200, { 'content-type': v2 ? REST_V2 : REST_V1, 'content-length': String(data.length) })
    res.end(data)
  }

  private async upload({ req, res, rec, store, type, id, signal }: FileCall): Promise<void> {
    if (this.o.readOnly && type !== 'lock') throw new Refusal(403, hasBody(req))
    const declared = contentLength(req)
    const limit = this.o.maxRequestSize
    if (limit > 0 && declared !== undefined && declared > limit) throw new Refusal(413, true)
    await this.names.run(`${store.name}\0${type}\0${id}`, async () => {
      if (await store.exists(type, id, signal)) throw new Refusal(403, hasBody(req))
      const ticket = this.parts.quota === undefined ? undefined : await this.parts.quota.open(store, signal)
      if (ticket !== undefined && declared !== undefined && !ticket.add(declared)) throw new Refusal(507, true)
      const hash = this.o.verifyUploads && type !== 'config' ? createHash('sha256') : undefined
      let upload
      try {
        upload = await store.openUpload(type, signal)
      } catch (err) {
        ticket?.release()
        throw err
      }
      let received = 0
      try {
        for await (const chunk of req as AsyncIterable<Buffer>) {
          received += chunk.length
          rec.bytesIn = received
          if (limit > 0 && received > limit) throw new Refusal(413, true)
          if (ticket !== undefined && (declared === undefined || received > declared) && !ticket.add(chunk.length)) {
            throw new Refusal(507, true)
          }
          hash?.update(chunk)
          await upload.write(chunk)
        }
        // a body shorter than announced is an incomplete transfer
        if (declared !== undefined && received !== declared) throw new Refusal(400, true)
        if (hash !== undefined && hash.digest('hex') !== id) throw new Refusal(400)
        await upload.commit(id)
      } catch (err) {
        await upload.abort().catch(() => {})
        ticket?.release()
        throw err
      }
      ticket?.commit()
      this.count('write', rec, type, received)
      this.empty(res, 200)
    })
  }

  private async remove({ req, res, rec, store, type, id, signal }: FileCall): Promise<void> {
    if ((this.o.appendOnly || this.o.readOnly) && type !== 'lock') throw new Refusal(403, hasBody(req))
    const quota = this.parts.quota
    const size = quota !== undefined || this.parts.metrics !== undefined ? await store.cheapSize(type, id) : undefined
    // removing a missing file succeeds (as rest-server: a retried DELETE must not fail)
    if (await store.remove(type, id, signal)) {
      quota?.removed(store, size)
      this.count('delete', rec, type, size ?? 0)
    }
    this.empty(res, 200)
  }

  private count(op: 'read' | 'write' | 'delete', rec: RequestRecord, type: FileType, bytes: number): void {
    this.parts.metrics?.count(op, { user: rec.user ?? '', repo: rec.repo ?? '', type: REST_DIR_OF[type] }, bytes)
  }

  private writeHead(res: ServerResponse, status: number, headers: Record<string, string>): void {
    if (this.parts.closing()) headers['connection'] = 'close'
    res.writeHead(status, headers)
  }

  private empty(res: ServerResponse, status: number): void {
    this.writeHead(res, status, { 'content-length': '0' })
    res.end()
  }

  private send(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, status: number, headers: Record<string, string>, data: Uint8Array): void {
    this.writeHead(res, status, { ...headers, 'content-length': String(data.length) })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    res.end(data)
    rec.bytesOut = data.length
  }

  private async sendBody(
    req: IncomingMessage,
    res: ServerResponse,
    rec: RequestRecord,
    status: number,
    headers: Record<string, string>,
    body: Body,
    length: number,
  ): Promise<void> {
    if (body instanceof Uint8Array) return this.send(req, res, rec, status, headers, body)
    this.writeHead(res, status, { ...headers, 'content-length': String(length) })
    try {
      await pipeline(body, res)
      rec.bytesOut = length
    } catch {
      // the client went away or the file could not be read to the end: the connection is dropped,
      // so the client sees an incomplete transfer rather than short data
      res.destroy()
    }
  }

  /** Answers a failed request: refusals with their status, storage errors as rest-server maps them. */
  private fail(req: IncomingMessage, res: ServerResponse, err: unknown, clientGone: boolean): void {
    let status: number
    let close = false
    let headers: Record<string, string> = {}
    if (err instanceof Refusal) {
      status = err.status
      close = err.closeConnection
      headers = err.headers
    } else if (clientGone || isRusticError(err, 'Aborted') || res.destroyed) {
      res.destroy()
      return
    } else if (isBackendError(err, 'NotFound')) {
      status = 404
    } else if (isBackendError(err, 'AlreadyExists')) {
      status = 403
    } else {
      status = isOutOfSpace(err) ? 507 : 500
      this.parts.warn(`${req.method ?? '?'} ${truncate(req.url ?? '')}: ${err instanceof Error ? err.message : String(err)}`, err)
    }
    if (res.headersSent) {
      res.destroy()
      return
    }
    if (close || (hasBody(req) && !req.readableEnded)) headers['connection'] = 'close'
    const body = Buffer.from(`${STATUS_CODES[status] ?? 'Error'}\n`)
    this.writeHead(res, status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': String(body.length), ...headers })
    res.end(req.method === 'HEAD' ? undefined : body)
  }
}

function unauthorized(req: IncomingMessage): Refusal {
  return new Refusal(401, hasBody(req), { 'www-authenticate': 'Basic realm="restic", charset="UTF-8"' })
}

function notAllowed(req: IncomingMessage, allow: string): Refusal {
  return new Refusal(405, hasBody(req), { allow })
}

/** True if the request announces a body (a length above 0 or chunked transfer). */
function hasBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding']
  return (te !== undefined && te !== '') || (contentLength(req) ?? 0) > 0
}

function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length']
  if (v === undefined) return undefined
  const n = Number(v)
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/** True if the `Accept` header asks for the v2 listing. */
function acceptsV2(accept: string | undefined): boolean {
  if (accept === undefined) return false
  return accept.split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === REST_V2)
}

/** True for "no space left" and "quota exceeded" errors of the storage (answered 507, as rest-server). */
function isOutOfSpace(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOSPC' || code === 'EDQUOT') return true
  }
  return false
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s
}
