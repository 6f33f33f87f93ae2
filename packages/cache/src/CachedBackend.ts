import { z } from 'zod'
import { RusticError, checkRange, parseOptions, hashId, throwIfAborted } from '@rustic-ts/core'
import type { CacheLayer, CallOptions, FileType, FileWriter, Id, WriteBackend } from '@rustic-ts/core'
import { DiskCache } from './DiskCache.js'

/** Receives cache problems (unwritable directory, full disk, corrupt entry); the call itself goes on. */
export type CacheWarningHandler = (message: string, error?: unknown) => void

/** zod schema of {@link CachedBackendOptions}. */
export const CachedBackendOptionsSchema = z.object({
  /** The repository's cache directory, e.g. from {@link defaultCacheDir}. */
  cacheDir: z.string().min(1),
  /** Called on every cache problem; default: ignore them. */
  onWarning: z.custom<CacheWarningHandler>((v) => typeof v === 'function').optional(),
})

/** Options of {@link CachedBackend}. */
export type CachedBackendOptions = z.input<typeof CachedBackendOptionsSchema>

/** File types cached whatever the `cacheable` flag says: snapshots, index files and key files. */
export const CACHED_FILE_TYPES: readonly FileType[] = ['snapshot', 'index', 'key']

/** True if files of `type` are always cached (`snapshot`, `index`, `key`). */
export function isCacheableType(type: FileType): boolean {
  return CACHED_FILE_TYPES.includes(type)
}

/**
 * A backend decorator that keeps an on-disk cache of cacheable files (as rustic_core's `CachedBackend`):
 * snapshot, index and key files, and packs read or written with `cacheable = true` (tree packs).
 *
 * - `readFull` of a cacheable type is served from the cache; a miss reads the inner backend and stores
 *   the file.
 * - `readPartial` with `cacheable` (or of a cacheable type) is served from the cache; a miss reads the
 *   **whole** file from the inner backend once, stores it and returns the range.
 * - Every entry is checked against its id (SHA-256 of the content) before use: a whole read each time,
 *   a ranged read the first time in this process. A corrupt entry is reported, deleted and refetched.
 * - `list`/`listWithSize` drop cache entries that no longer exist in the inner backend (or, with sizes,
 *   whose size differs).
 * - Writes go to the inner backend, then (if cacheable) to the cache; removes remove from both.
 * - The config and lock files are never cached.
 *
 * Any cache failure (EACCES, ENOSPC, a corrupt entry) only calls `onWarning`; the call is then served by
 * the inner backend. The cache directory gets a `CACHEDIR.TAG`; directories are 0700, files 0600, and
 * entries are written atomically (temp file + rename; no fsync: a torn entry fails its check).
 */
export class CachedBackend implements CacheLayer {
  /** The on-disk store. */
  readonly cache: DiskCache
  private readonly warn: CacheWarningHandler
  private ready: Promise<boolean> | undefined
  /** Entries whose content was checked in this process (`type/id`), for ranged reads. */
  private readonly verified = new Set<string>()
  /** Files that are not cached (data packs) are written through the inner backend's writer, if it has one. */
  readonly openFileWriter?: (type: FileType, cacheable: boolean, options?: CallOptions) => Promise<FileWriter | undefined>

  /**
   * @param inner - the backend to cache.
   * @param options - the cache directory and a warning handler.
   */
  constructor(
    readonly inner: WriteBackend,
    options: CachedBackendOptions,
  ) {
    const parsed = parseOptions(CachedBackendOptionsSchema, options, 'cache options')
    this.cache = new DiskCache(parsed.cacheDir)
    const writer = inner.openFileWriter?.bind(inner)
    if (writer) {
      this.openFileWriter = (type, cacheable, options) =>
        mayBeCached(type) && (cacheable || isCacheableType(type)) ? Promise.resolve(undefined) : writer(type, cacheable, options)
    }
    const handler = parsed.onWarning
    this.warn = (message, error) => {
      try {
        handler?.(message, error)
      } catch {
        // a failing warning handler must not break reads
      }
    }
  }

  /** Passes through to the inner backend (the cache's own entries are written atomically and leave none behind for long). */
  async removeStaleTempFiles(olderThanMs: number, options?: CallOptions): Promise<number> {
    return (await this.inner.removeStaleTempFiles?.(olderThanMs, options)) ?? 0
  }

  /** The cache directory. */
  get cacheDir(): string {
    return this.cache.dir
  }

  /** Creates the cache directory once; false (after a warning) if that fails, which turns the cache off. */
  private async isReady(): Promise<boolean> {
    this.ready ??= this.cache.init().then(
      () => true,
      (err: unknown) => {
        this.warn(`cache directory ${this.cache.dir} is unusable, reading without cache: ${errText(err)}`, err)
        return false
      },
    )
    return this.ready
  }

  /** The cache directory (for {@link CacheLayer}). */
  cacheLocation(): string {
    return this.cache.dir
  }

  /** Ids and sizes of the cached files of a type (none for config and locks, which are never cached). */
  async listCached(type: FileType): Promise<Map<Id, number>> {
    return mayBeCached(type) ? this.cache.list(type) : new Map()
  }

  /** A cached file's bytes as stored, unchecked; `undefined` if not cached. */
  async readCached(type: FileType, id: Id): Promise<Uint8Array | undefined> {
    return mayBeCached(type) ? this.cache.read(type, id) : undefined
  }

  /** Replaces a cached file with `data`, which must hash to `id`; throws if it cannot be written. */
  async writeCached(type: FileType, id: Id, data: Uint8Array): Promise<void> {
    if (!mayBeCached(type)) return
    this.verified.delete(key(type, id))
    if (hashId(data) !== id) throw new RusticError('Verification', `not caching ${type} ${id}: its SHA-256 does not match its id`, { code: 'IntegrityError' })
    await this.cache.init()
    await this.cache.write(type, id, data)
    this.verified.add(key(type, id))
  }

  /** Removes a cached file (a missing one is fine); throws if it cannot be removed. */
  async removeCached(type: FileType, id: Id): Promise<void> {
    if (mayBeCached(type)) await this.dropEntry(type, id)
  }

  /** The inner backend's location. */
  location(): string {
    return this.inner.location()
  }

  /** The inner backend's list; drops cache entries of this type that are no longer listed. */
  async list(type: FileType, options?: CallOptions): Promise<Id[]> {
    const ids = await this.inner.list(type, options)
    if (mayBeCached(type)) await this.prune(type, new Map(ids.map((id) => [id, undefined])))
    return ids
  }

  /** The inner backend's list with sizes; drops cache entries that are no longer listed or differ in size. */
  async listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    const list = await this.inner.listWithSize(type, options)
    if (mayBeCached(type)) await this.prune(type, new Map(list))
    return list
  }

  private async prune(type: FileType, remote: Map<Id, number | undefined>): Promise<void> {
    if (!(await this.isReady())) return
    try {
      for (const [id, size] of await this.cache.list(type)) {
        if (!remote.has(id)) {
          await this.dropEntry(type, id)
        } else {
          const remoteSize = remote.get(id)
          if (remoteSize !== undefined && remoteSize !== size) await this.dropEntry(type, id)
        }
      }
    } catch (err) {
      this.warn(`cannot prune the ${type} cache in ${this.cache.dir}: ${errText(err)}`, err)
    }
  }

  private async dropEntry(type: FileType, id: Id): Promise<void> {
    this.verified.delete(key(type, id))
    await this.cache.remove(type, id)
  }

  /** A whole entry from the cache if present and intact; `undefined` otherwise (after a warning if broken). */
  private async fromCache(type: FileType, id: Id): Promise<Uint8Array | undefined> {
    if (!(await this.isReady())) return undefined
    let data: Uint8Array | undefined
    try {
      data = await this.cache.read(type, id)
    } catch (err) {
      this.warn(`cannot read ${type} ${id} from the cache: ${errText(err)}`, err)
      return undefined
    }
    if (data === undefined) return undefined
    if (hashId(data) !== id) {
      await this.corrupt(type, id, 'its SHA-256 does not match its id')
      return undefined
    }
    this.verified.add(key(type, id))
    return data
  }

  private async corrupt(type: FileType, id: Id, why: string): Promise<void> {
    this.warn(`cache entry ${type} ${id} in ${this.cache.dir} is corrupt (${why}); removed it, reading from the backend`)
    try {
      await this.dropEntry(type, id)
    } catch (err) {
      this.warn(`cannot remove corrupt cache entry ${type} ${id}: ${errText(err)}`, err)
    }
  }

  /** Stores a file in the cache if its content matches its id; failures only warn. */
  private async toCache(type: FileType, id: Id, data: Uint8Array): Promise<void> {
    if (!(await this.isReady())) return
    this.verified.delete(key(type, id))
    if (hashId(data) !== id) {
      this.warn(`not caching ${type} ${id}: its SHA-256 does not match its id`)
      return
    }
    try {
      await this.cache.write(type, id, data)
      this.verified.add(key(type, id))
    } catch (err) {
      this.warn(`cannot write ${type} ${id} to the cache: ${errText(err)}`, err)
    }
  }

  /** Reads the whole file from the inner backend and caches it. */
  private async fetch(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    const data = await this.inner.readFull(type, id, options)
    await this.toCache(type, id, data)
    return data
  }

  /** A whole file: from the cache for snapshot, index and key files, else from the inner backend. */
  async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    if (!isCacheableType(type)) return this.inner.readFull(type, id, options)
    throwIfAborted(options?.signal)
    return (await this.fromCache(type, id)) ?? this.fetch(type, id, options)
  }

  /** `length` bytes from `offset`; cacheable files are served from the cache (fetched whole on a miss). */
  async readPartial(
    type: FileType,
    id: Id,
    cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    if (!mayBeCached(type) || !(cacheable || isCacheableType(type))) {
      return this.inner.readPartial(type, id, cacheable, offset, length, options)
    }
    throwIfAborted(options?.signal)
    checkRange(type, id, offset, length, Number.MAX_SAFE_INTEGER)
    const cached = await this.rangeFromCache(type, id, offset, length)
    if (cached !== undefined) return cached
    const data = await this.fetch(type, id, options)
    checkRange(type, id, offset, length, data.length)
    return data.slice(offset, offset + length)
  }

  private async rangeFromCache(type: FileType, id: Id, offset: number, length: number): Promise<Uint8Array | undefined> {
    if (!(await this.isReady())) return undefined
    if (!this.verified.has(key(type, id))) {
      const data = await this.fromCache(type, id)
      if (data === undefined) return undefined
      checkRange(type, id, offset, length, data.length)
      return data.slice(offset, offset + length)
    }
    let part: Uint8Array | undefined | null
    try {
      part = await this.cache.readRange(type, id, offset, length)
    } catch (err) {
      this.warn(`cannot read ${type} ${id} from the cache: ${errText(err)}`, err)
      return undefined
    }
    if (part === null) {
      // Checked earlier, now shorter: changed behind our back, or a read past the end. Check again.
      this.verified.delete(key(type, id))
      const data = await this.fromCache(type, id)
      if (data === undefined) return undefined
      checkRange(type, id, offset, length, data.length)
      return data.slice(offset, offset + length)
    }
    return part
  }

  /** Creates the inner repository (the cache directory is made on first use). */
  async create(options?: CallOptions): Promise<void> {
    await this.inner.create(options)
  }

  /** Writes to the inner backend, then (for cacheable files) to the cache. */
  async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    await this.inner.writeBytes(type, id, cacheable, data, options)
    if (mayBeCached(type) && (cacheable || isCacheableType(type))) await this.toCache(type, id, data)
  }

  /** Removes from the inner backend and from the cache (even if the inner remove fails). */
  async remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    try {
      await this.inner.remove(type, id, cacheable, options)
    } finally {
      if (mayBeCached(type) && (await this.isReady())) {
        try {
          await this.dropEntry(type, id)
        } catch (err) {
          this.warn(`cannot remove ${type} ${id} from the cache: ${errText(err)}`, err)
        }
      }
    }
  }

  /** The inner backend's answer. */
  needsWarmUp(): boolean {
    return this.inner.needsWarmUp?.() ?? false
  }

  /** Forwards to the inner backend (a no-op if it has no `warmUp`). */
  async warmUp(type: FileType, id: Id, options?: CallOptions): Promise<void> {
    await this.inner.warmUp?.(type, id, options)
  }

  /** Closes the inner backend. */
  async close(): Promise<void> {
    await this.inner.close?.()
  }
}

/** Types that can have cache entries (never config or locks). */
function mayBeCached(type: FileType): boolean {
  return type !== 'config' && type !== 'lock'
}

function key(type: FileType, id: Id): string {
  return `${type}/${id}`
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
