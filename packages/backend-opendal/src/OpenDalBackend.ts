import type { Operator } from 'opendal'
import pLimit from 'p-limit'
import type { LimitFunction } from 'p-limit'
import {
  BackendError,
  CONFIG_ID,
  LayoutResolver,
  parseOptions,
  checkRange,
  hasIdName,
  isId,
  isNotFound,
  throwIfAborted,
} from '@rustic-ts/core'
import type { CallOptions, FileType, Id, LayoutName, WriteBackend } from '@rustic-ts/core'
import { loadOpenDal } from './loadOpenDal.js'
import { mapOpenDalError, redactSecrets } from './mapOpenDalError.js'
import { OpenDalBackendOptionsSchema } from './OpenDalBackendOptions.js'
import type { OpenDalBackendOptions, ResolvedOpenDalBackendOptions } from './OpenDalBackendOptions.js'

/** Service options whose values are secrets: never shown in `location()` or error messages. */
const SECRET_KEY = /secret|password|passwd|token|key|credential|sas|session|signature|auth|private/i

/**
 * Services that hold data in process memory and answer ranged reads past the end with a panic:
 * ranged reads stat first there (cheap, local).
 */
const STAT_BEFORE_RANGE = new Set(['memory', 'dashmap', 'moka', 'mini_moka', 'mini-moka'])

/**
 * The bytes of a buffer opendal returned, copied into memory of this JavaScript heap: opendal's buffers
 * are external memory, which Node 24 refuses to transfer to a worker thread (`DataCloneError`), and
 * the restore workers are handed packs that way.
 */
function ownCopy(buf: Buffer): Uint8Array {
  return new Uint8Array(buf)
}

/**
 * A backend over any service of the `opendal` npm binding (0.49.1): `fs`, `memory`, `s3`, `webdav`,
 * `gcs`, `azblob`, ... in restic's layout (`config`, `keys/`, `snapshots/`, `index/`, `locks/`,
 * `data/xx/<id>`), or in the old `s3legacy` layout (`key/`, `snapshot/`, `index/`, `lock/`, `data/<id>`),
 * detected on first use as restic 0.14 detects it on its local, sftp and s3 backends (option `layout`).
 *
 * ```ts
 * const be = new OpenDalBackend('s3', { bucket: 'b', root: '/repo', region: 'us-east-1',
 *   access_key_id: '...', secret_access_key: '...' })
 * ```
 *
 * Temporary errors are retried by opendal's `RetryLayer` (`retries`, default 3; 0 turns it off and leaves
 * retrying to core's retry decorator). For `fs`, writes are atomic: unless `atomic_write_dir` is given it
 * is set to `<root>/.opendal-tmp`, so files are written there and renamed into place.
 *
 * The native `opendal` binding is loaded when the first backend is made, not when this package is
 * imported; where it does not load, the constructor throws `NativeModuleUnavailable` naming the platform.
 */
export class OpenDalBackend implements WriteBackend {
  /** The opendal operator (with the retry layer, if any). */
  readonly operator: Operator
  /** The service name (`fs`, `s3`, ...). */
  readonly scheme: string
  /** The options in effect, with defaults applied. */
  readonly options: ResolvedOpenDalBackendOptions
  private readonly limit: LimitFunction
  private readonly secrets: string[]
  private readonly where: string
  private readonly statBeforeRange: boolean
  private readonly layouts: LayoutResolver

  /**
   * @param scheme - the opendal service (`fs`, `memory`, `s3`, `webdav`, ...).
   * @param options - the service's options (`root`, `bucket`, `endpoint`, credentials, ...), as opendal
   *   names them. `retry` and `connections` are read as in rustic and not passed on.
   * @param backendOptions - retries and concurrency; override `retry`/`connections` from `options`.
   */
  constructor(scheme: string, options: Record<string, string> = {}, backendOptions: OpenDalBackendOptions = {}) {
    this.scheme = scheme
    const service: Record<string, string> = { ...options }
    const fromService: OpenDalBackendOptions = {}
    if (service.retry !== undefined) {
      const r = service.retry.trim().toLowerCase()
      if (r === 'off' || r === 'false' || r === 'none') fromService.retries = 0
      else if (r !== 'default' && r !== '') fromService.retries = Number(r)
      delete service.retry
    }
    if (service.connections !== undefined) {
      fromService.concurrency = Number(service.connections)
      delete service.connections
    }
    if (service.layout !== undefined) {
      fromService.layout = service.layout as OpenDalBackendOptions['layout']
      delete service.layout
    }
    this.options = parseOptions(OpenDalBackendOptionsSchema, { ...fromService, ...backendOptions }, `options of opendal:${scheme}`)
    if (scheme === 'fs' && service.root && service.atomic_write_dir === undefined) {
      service.atomic_write_dir = `${service.root.replace(/\/+$/, '')}/.opendal-tmp`
    }
    this.secrets = Object.entries(service)
      .filter(([k, v]) => SECRET_KEY.test(k) && v.length > 0)
      .map(([, v]) => v)
    this.where = describeLocation(scheme, service)
    this.statBeforeRange = STAT_BEFORE_RANGE.has(scheme)
    const { Operator, RetryLayer } = loadOpenDal()
    let op: Operator
    try {
      op = new Operator(scheme, service)
    } catch (err) {
      throw mapOpenDalError(err, `cannot open ${this.where}`, this.secrets)
    }
    if (this.options.retries > 0) {
      const retry = new RetryLayer()
      retry.maxTimes = this.options.retries
      retry.jitter = true
      retry.minDelay = this.options.retryMinDelayMs
      retry.maxDelay = Math.max(this.options.retryMinDelayMs, this.options.retryMaxDelayMs)
      op = op.layer(retry.build())
    }
    this.operator = op
    this.limit = pLimit(this.options.concurrency)
    this.layouts = new LayoutResolver(this.options.layout, (dir) => this.holdsIdFile(dir))
  }

  /** The layout in use (`default` or `s3legacy`), detected on first use unless chosen in the options. */
  async layout(): Promise<LayoutName> {
    return (await this.layouts.get()).name
  }

  private async holdsIdFile(dir: string): Promise<boolean> {
    try {
      const entries = await this.call(() => `cannot list ${dir}/ in ${this.where}`, (op) => op.list(`${dir}/`))
      return hasIdName(entries.map((e) => e.path().replace(/\/$/, '').split('/').pop() ?? ''))
    } catch (err) {
      if (isNotFound(err)) return false
      throw err
    }
  }

  /** The path of a file in the repository's layout. */
  private async filePath(type: FileType, id: Id): Promise<string> {
    return (await this.layouts.get()).path(type, id)
  }

  /** `opendal:<scheme>` plus bucket/container and root, e.g. `opendal:s3:bucket/repo`; never credentials. */
  location(): string {
    return this.where
  }

  /** Runs one opendal call under the concurrency limit, mapping its errors. */
  private async call<T>(what: () => string, fn: (op: Operator) => Promise<T>, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal)
    return this.limit(async () => {
      throwIfAborted(signal)
      try {
        return await fn(this.operator)
      } catch (err) {
        throw mapOpenDalError(err, what(), this.secrets)
      }
    })
  }

  /** Size of a file by `stat`. */
  private async size(path: string, what: () => string, signal?: AbortSignal): Promise<number> {
    const meta = await this.call(what, (op) => op.stat(path), signal)
    return Number(meta.contentLength ?? 0n)
  }

  /**
   * Creates the folders of the layout: `keys/`, `snapshots/`, `index/`, `locks/`, `data/` and `data/00/` ...
   * `data/ff/` (rustic makes the same), or the s3legacy ones. Idempotent.
   */
  async create(options?: CallOptions): Promise<void> {
    const signal = options?.signal
    const dirs = (await this.layouts.get()).dirs().map((d) => `${d}/`)
    await Promise.all(
      dirs.map((d) => this.call(() => `cannot create directory ${d} in ${this.where}`, (op) => op.createDir(d), signal)),
    )
  }

  /** Files of a type with the size opendal's listing reports (`undefined` where it reports none). */
  private async listEntries(type: FileType, signal?: AbortSignal): Promise<Array<[Id, number | undefined]>> {
    if (type === 'config') {
      try {
        return [[CONFIG_ID, await this.size('config', () => `cannot stat config in ${this.where}`, signal)]]
      } catch (err) {
        if (isNotFound(err)) return []
        throw err
      }
    }
    const dir = `${(await this.layouts.get()).dir(type)}/`
    let entries
    try {
      // Recursive: s3-like servers may omit prefixes that hold only nested keys from delimiter listings.
      entries = await this.call(() => `cannot list ${type} files in ${this.where}`, (op) => op.list(dir, { recursive: true }), signal)
    } catch (err) {
      if (isNotFound(err)) return []
      throw err
    }
    const out = new Map<Id, number | undefined>()
    for (const e of entries) {
      const path = e.path()
      if (path.endsWith('/')) continue
      const name = path.slice(path.lastIndexOf('/') + 1)
      if (!isId(name)) continue
      const meta = e.metadata()
      if (meta.isDirectory()) continue
      const len = meta.contentLength
      out.set(name, len !== null && len > 0n ? Number(len) : undefined)
    }
    return [...out]
  }

  /** Ids of all files of a type (`[CONFIG_ID]` for an existing config). */
  async list(type: FileType, options?: CallOptions): Promise<Id[]> {
    return (await this.listEntries(type, options?.signal)).map(([id]) => id)
  }

  /**
   * Ids and sizes of all files of a type. Sizes the listing does not report (opendal 0.49 lists size 0 on
   * several services) are fetched with `stat`, under the concurrency limit.
   */
  async listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    const signal = options?.signal
    const entries = await this.listEntries(type, signal)
    const sized = await Promise.all(
      entries.map(async ([id, size]): Promise<[Id, number] | undefined> => {
        if (size !== undefined) return [id, size]
        try {
          return [id, await this.size(await this.filePath(type, id), () => `cannot stat ${what(type, id)} in ${this.where}`, signal)]
        } catch (err) {
          if (isNotFound(err)) return undefined // removed since the listing
          throw err
        }
      }),
    )
    return sized.filter((x): x is [Id, number] => x !== undefined)
  }

  /** A whole file. */
  async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    const path = await this.filePath(type, id)
    const buf = await this.call(
      () => `cannot read ${what(type, id)} from ${this.where}`,
      (op) => op.read(path),
      options?.signal,
    )
    return ownCopy(buf)
  }

  /** `length` bytes from `offset`; throws `Invalid` if the file is shorter, `NotFound` if missing. */
  async readPartial(
    type: FileType,
    id: Id,
    _cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    const signal = options?.signal
    checkRange(type, id, offset, length, Number.MAX_SAFE_INTEGER)
    const path = await this.filePath(type, id)
    const whatRead = (): string => `cannot read ${length} bytes at offset ${offset} of ${what(type, id)} from ${this.where}`
    if (length === 0 || this.statBeforeRange) {
      checkRange(type, id, offset, length, await this.size(path, whatRead, signal))
      if (length === 0) return new Uint8Array(0)
    }
    let buf: Buffer
    try {
      buf = await this.call(whatRead, (op) => op.read(path, { offset: BigInt(offset), size: BigInt(length) }), signal)
    } catch (err) {
      if (isNotFound(err)) throw err
      // Services report reads past the end differently (short read, HTTP 416, ...): stat to say which.
      let size: number | undefined
      try {
        size = await this.size(path, whatRead, signal)
      } catch {
        throw err
      }
      checkRange(type, id, offset, length, size)
      throw err
    }
    if (buf.byteLength !== length) {
      throw new BackendError('Invalid', `${whatRead()}: got ${buf.byteLength} bytes, expected ${length}`)
    }
    return ownCopy(buf)
  }

  /** Stores a file (overwriting is allowed). */
  async writeBytes(type: FileType, id: Id, _cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    const path = await this.filePath(type, id)
    await this.call(
      () => `cannot write ${what(type, id)} (${data.byteLength} bytes) to ${this.where}`,
      (op) => op.write(path, buf),
      options?.signal,
    )
  }

  /** Removes a file; throws `NotFound` if it is missing (opendal's delete is idempotent, so this stats first). */
  async remove(type: FileType, id: Id, _cacheable: boolean, options?: CallOptions): Promise<void> {
    const signal = options?.signal
    const path = await this.filePath(type, id)
    const whatRemove = (): string => `cannot remove ${what(type, id)} from ${this.where}`
    await this.call(whatRemove, (op) => op.stat(path), signal)
    await this.call(whatRemove, (op) => op.delete(path), signal)
  }
}

function what(type: FileType, id: Id): string {
  return type === 'config' ? 'config' : `${type} ${id}`
}

/** `opendal:<scheme>[:<bucket>][<root>]`, from options that are never secret. */
function describeLocation(scheme: string, options: Record<string, string>): string {
  const container = options.bucket ?? options.container ?? options.filesystem ?? options.share_name ?? ''
  const root = options.root ?? ''
  const path = container && root && !root.startsWith('/') ? `${container}/${root}` : `${container}${root}`
  return redactSecrets(path ? `opendal:${scheme}:${path}` : `opendal:${scheme}`, [])
}
