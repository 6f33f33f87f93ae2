import pLimit from 'p-limit'
import { BackendError, CONFIG_ID, FILE_TYPE_DIR, isId } from '@rustic-ts/core'
import type { CallOptions, FileType, Id, WriteBackend } from '@rustic-ts/core'
import { errorFromFailure, errorFromStatus } from './restErrors.js'
import type { RestRequest, RestResponse, RestTransport } from './RestTransport.js'

/** The `Accept` value and `Content-Type` of v2 listings (names with sizes). */
export const REST_V2_MEDIA_TYPE = 'application/vnd.x.restic.rest.v2'

/** Options of {@link RestProtocolBackend}. */
export interface RestProtocolOptions {
  /** How many `HEAD` requests may run at once to learn sizes when a server lists without them (v1). Default 8. */
  headConcurrency?: number
}

/**
 * A `WriteBackend` speaking the restic REST protocol (rest-server, `rclone serve restic`) over any
 * {@link RestTransport}. {@link RestBackend} uses it over HTTP(S); the rclone backend over HTTP/2 on
 * a child process's pipes.
 *
 * Paths: `config`, `keys/<id>`, `snapshots/<id>`, `index/<id>`, `locks/<id>`, `data/<id>` (flat).
 * Listings ask for v2 (`[{name,size}]`) and fall back to v1 (`[name]`, then `HEAD` for sizes) when the
 * server answers without the v2 content type. A listing answered with 404 is empty.
 */
export class RestProtocolBackend implements WriteBackend {
  /** The transport requests go through. */
  protected readonly transport: RestTransport
  private readonly loc: string
  private readonly headConcurrency: number

  /**
   * @param transport - carries the requests.
   * @param location - the printable location (no secrets), used in `location()` and error messages.
   * @param options - see {@link RestProtocolOptions}.
   */
  constructor(transport: RestTransport, location: string, options: RestProtocolOptions = {}) {
    this.transport = transport
    this.loc = location
    this.headConcurrency = Math.max(1, Math.floor(options.headConcurrency ?? 8))
  }

  /** The location, without secrets. */
  location(): string {
    return this.loc
  }

  /** `POST /?create=true`: the server creates the repository's directories. Idempotent. */
  async create(options?: CallOptions): Promise<void> {
    const what = 'create repository'
    const res = await this.send({ method: 'POST', path: '?create=true', signal: options?.signal }, what)
    if (!isOk(res.status)) throw this.statusError(res, what)
  }

  /** Ids of all files of a type (`[CONFIG_ID]` for an existing config). */
  async list(type: FileType, options?: CallOptions): Promise<Id[]> {
    if (type === 'config') {
      return (await this.headSize('config', CONFIG_ID, options?.signal)) === undefined ? [] : [CONFIG_ID]
    }
    const listing = await this.listDir(type, options?.signal)
    return listing.entries.map(([id]) => id)
  }

  /** Ids and sizes of all files of a type. */
  async listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    const signal = options?.signal
    if (type === 'config') {
      const size = await this.headSize('config', CONFIG_ID, signal)
      return size === undefined ? [] : [[CONFIG_ID, size]]
    }
    const listing = await this.listDir(type, signal)
    if (listing.withSizes) return listing.entries as Array<[Id, number]>
    const limit = pLimit(this.headConcurrency)
    const sized = await Promise.all(
      listing.entries.map(([id]) => limit(async () => [id, await this.headSize(type, id, signal)] as const)),
    )
    return sized.filter((e): e is readonly [Id, number] => e[1] !== undefined).map(([id, size]) => [id, size])
  }

  /** A whole file (`GET`). */
  async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    const what = `GET ${describe(type, id)}`
    const res = await this.send({ method: 'GET', path: filePath(type, id), signal: options?.signal }, what)
    if (!isOk(res.status)) throw this.statusError(res, what)
    this.checkContentLength(res, what)
    return res.body
  }

  /** `length` bytes from `offset` (`GET` with `Range: bytes=a-b`; the received length is checked). */
  async readPartial(
    type: FileType,
    id: Id,
    _cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    const signal = options?.signal
    const what = `GET ${describe(type, id)} bytes ${offset}+${length}`
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new BackendError('Invalid', `${what} at ${this.loc}: offset and length must be non-negative integers`)
    }
    if (length === 0) {
      const size = await this.headSize(type, id, signal)
      if (size === undefined) throw new BackendError('NotFound', `${what} at ${this.loc}: file not found`)
      if (offset > size) throw this.pastEnd(what, size)
      return new Uint8Array(0)
    }
    const end = offset + length
    const res = await this.send(
      { method: 'GET', path: filePath(type, id), headers: { range: `bytes=${offset}-${end - 1}` }, signal },
      what,
    )
    if (res.status === 206) {
      this.checkContentLength(res, what)
      if (res.body.length === length) return res.body
      const total = /\/(\d+)\s*$/.exec(res.headers['content-range'] ?? '')?.[1]
      if (total !== undefined && Number(total) < end) throw this.pastEnd(what, Number(total))
      if (res.body.length < length && total === undefined) throw this.pastEnd(what, undefined, res.body.length)
      throw new BackendError(
        'Network',
        `${what} at ${this.loc}: received ${res.body.length} bytes instead of ${length} (incomplete transfer)`,
      )
    }
    if (res.status === 200) {
      // The server ignored the range and sent the whole file.
      this.checkContentLength(res, what)
      if (res.body.length < end) throw this.pastEnd(what, res.body.length)
      return res.body.subarray(offset, end)
    }
    throw this.statusError(res, what)
  }

  /** Stores a file (`POST` with the bytes as body). */
  async writeBytes(type: FileType, id: Id, _cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    const what = `POST ${describe(type, id)} (${data.length} bytes)`
    const res = await this.send(
      {
        method: 'POST',
        path: filePath(type, id),
        headers: { 'content-type': 'application/octet-stream' },
        body: data,
        signal: options?.signal,
      },
      what,
    )
    if (!isOk(res.status)) throw this.statusError(res, what)
  }

  /** Removes a file (`DELETE`); a missing file is `NotFound`. */
  async remove(type: FileType, id: Id, _cacheable: boolean, options?: CallOptions): Promise<void> {
    const what = `DELETE ${describe(type, id)}`
    const res = await this.send({ method: 'DELETE', path: filePath(type, id), signal: options?.signal }, what)
    if (!isOk(res.status)) throw this.statusError(res, what)
  }

  /** Closes the transport's connections. */
  async close(): Promise<void> {
    await this.transport.close()
  }

  /** Sends a request; failures of the transport become `BackendError`s (or `Aborted`). */
  protected async send(req: RestRequest, what: string): Promise<RestResponse> {
    if (req.signal?.aborted) throw errorFromFailure(undefined, what, this.loc, req.signal)
    const headers = { accept: '*/*', ...req.headers }
    try {
      return await this.transport.request({ ...req, headers })
    } catch (err) {
      throw errorFromFailure(err, what, this.loc, req.signal)
    }
  }

  private async headSize(type: FileType, id: Id, signal: AbortSignal | undefined): Promise<number | undefined> {
    const what = `HEAD ${describe(type, id)}`
    const res = await this.send({ method: 'HEAD', path: filePath(type, id), signal }, what)
    if (res.status === 404) return undefined
    if (!isOk(res.status)) throw this.statusError(res, what)
    const size = Number(res.headers['content-length'])
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new BackendError('Invalid', `${what} at ${this.loc}: the server sent no valid Content-Length`)
    }
    return size
  }

  private async listDir(
    type: FileType,
    signal: AbortSignal | undefined,
  ): Promise<{ withSizes: boolean; entries: Array<[Id, number | undefined]> }> {
    const dir = FILE_TYPE_DIR[type]
    const what = `list ${dir}/`
    const res = await this.send({ method: 'GET', path: `${dir}/`, headers: { accept: REST_V2_MEDIA_TYPE }, signal }, what)
    if (res.status === 404) return { withSizes: true, entries: [] }
    if (!isOk(res.status)) throw this.statusError(res, what)
    this.checkContentLength(res, what)
    const v2 = (res.headers['content-type'] ?? '').toLowerCase().startsWith(REST_V2_MEDIA_TYPE)
    let parsed: unknown
    try {
      parsed = JSON.parse(Buffer.from(res.body.buffer, res.body.byteOffset, res.body.length).toString('utf8'))
    } catch (err) {
      throw new BackendError('Invalid', `${what} at ${this.loc}: the listing is not valid JSON`, { cause: err })
    }
    if (!Array.isArray(parsed)) {
      throw new BackendError('Invalid', `${what} at ${this.loc}: the listing is not a JSON array`)
    }
    const entries: Array<[Id, number | undefined]> = []
    let withSizes = true
    for (const e of parsed as unknown[]) {
      let name: unknown
      let size: unknown
      if (typeof e === 'string') name = e
      else if (typeof e === 'object' && e !== null) ({ name, size } = e as { name?: unknown; size?: unknown })
      if (typeof name !== 'string' || !isId(name)) continue // not a repository file (temp files, junk)
      if (v2 && typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) {
        entries.push([name, size])
      } else {
        withSizes = false
        entries.push([name, undefined])
      }
    }
    return { withSizes, entries }
  }

  private checkContentLength(res: RestResponse, what: string): void {
    const cl = res.headers['content-length']
    if (cl === undefined) return
    const n = Number(cl)
    if (Number.isSafeInteger(n) && n !== res.body.length) {
      throw new BackendError(
        'Network',
        `${what} at ${this.loc}: received ${res.body.length} bytes, Content-Length was ${n} (incomplete transfer)`,
      )
    }
  }

  private pastEnd(what: string, size: number | undefined, received?: number): BackendError {
    const known = size !== undefined ? `the file has ${size} bytes` : `only ${received ?? 0} bytes were sent`
    return new BackendError('Invalid', `${what} at ${this.loc}: range past the end of the file (${known})`)
  }

  private statusError(res: RestResponse, what: string): BackendError {
    const type = res.headers['content-type'] ?? ''
    const detail =
      type.startsWith('text/') && res.body.length <= 1024
        ? Buffer.from(res.body.buffer, res.body.byteOffset, res.body.length).toString('utf8')
        : undefined
    return errorFromStatus(res.status, what, this.loc, detail)
  }
}

function isOk(status: number): boolean {
  return status >= 200 && status <= 299
}

function filePath(type: FileType, id: Id): string {
  return type === 'config' ? 'config' : `${FILE_TYPE_DIR[type]}/${id}`
}

function describe(type: FileType, id: Id): string {
  return type === 'config' ? 'config' : `${type} ${id}`
}
