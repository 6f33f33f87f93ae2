import { z } from 'zod'
import { parseOptions } from '@rustic-ts/core'
import { LruCache } from '@rustic-ts/core/internal'
import type { Id } from '@rustic-ts/core'

/** zod schema of {@link LruBlobCacheOptions}. */
export const LruBlobCacheOptionsSchema = z.object({
  /** Most bytes of data held at once (the sum of the entries' lengths). */
  maxBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
})

/** Options of {@link LruBlobCache}. */
export type LruBlobCacheOptions = z.input<typeof LruBlobCacheOptionsSchema>

/**
 * An in-memory least-recently-used cache of blobs (or any byte arrays) keyed by id, with a byte budget.
 * Adding an entry evicts the least recently used ones until the total fits `maxBytes`; an entry larger
 * than the whole budget is not stored. Entries are stored and returned as given (no copies): treat them
 * as read-only.
 */
export class LruBlobCache<K extends string = Id> {
  /** The byte budget. */
  readonly maxBytes: number
  private readonly lru: LruCache<K, Uint8Array>

  /** @param options - the byte budget. */
  constructor(options: LruBlobCacheOptions) {
    const parsed = parseOptions(LruBlobCacheOptionsSchema, options, 'LRU cache options')
    this.maxBytes = parsed.maxBytes
    this.lru = new LruCache<K, Uint8Array>(this.maxBytes, (data) => data.byteLength)
  }

  /** Bytes held (sum of the entries' lengths). */
  get size(): number {
    return this.lru.cost
  }

  /** Number of entries. */
  get count(): number {
    return this.lru.size
  }

  /** True if `id` is cached (does not change recency). */
  has(id: K): boolean {
    return this.lru.has(id)
  }

  /** The entry for `id` (now the most recently used), or `undefined`. */
  get(id: K): Uint8Array | undefined {
    return this.lru.get(id)
  }

  /**
   * Stores `data` under `id` (replacing an older entry) as the most recently used, evicting others to
   * stay within the budget. Returns false, storing nothing, if `data` alone exceeds the budget.
   */
  set(id: K, data: Uint8Array): boolean {
    return this.lru.set(id, data)
  }

  /** Removes the entry for `id`; true if there was one. */
  delete(id: K): boolean {
    return this.lru.delete(id)
  }

  /** Removes every entry. */
  clear(): void {
    this.lru.clear()
  }

  /** Ids from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.lru.keys()
  }
}
