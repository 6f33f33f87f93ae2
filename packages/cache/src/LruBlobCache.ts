import { z } from 'zod'
import { RusticError } from '@rustic-ts/core'
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
  /** Map order is recency order: the first key is the least recently used. */
  private readonly entries = new Map<K, Uint8Array>()
  private bytes = 0

  /** @param options - the byte budget. */
  constructor(options: LruBlobCacheOptions) {
    const parsed = LruBlobCacheOptionsSchema.safeParse(options)
    if (!parsed.success) {
      throw new RusticError('Configuration', `invalid LRU cache options: ${parsed.error.message}`, { code: 'InvalidOptions' })
    }
    this.maxBytes = parsed.data.maxBytes
  }

  /** Bytes held (sum of the entries' lengths). */
  get size(): number {
    return this.bytes
  }

  /** Number of entries. */
  get count(): number {
    return this.entries.size
  }

  /** True if `id` is cached (does not change recency). */
  has(id: K): boolean {
    return this.entries.has(id)
  }

  /** The entry for `id` (now the most recently used), or `undefined`. */
  get(id: K): Uint8Array | undefined {
    const data = this.entries.get(id)
    if (data !== undefined) {
      this.entries.delete(id)
      this.entries.set(id, data)
    }
    return data
  }

  /**
   * Stores `data` under `id` (replacing an older entry) as the most recently used, evicting others to
   * stay within the budget. Returns false, storing nothing, if `data` alone exceeds the budget.
   */
  set(id: K, data: Uint8Array): boolean {
    this.delete(id)
    if (data.byteLength > this.maxBytes) return false
    this.entries.set(id, data)
    this.bytes += data.byteLength
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next()
      if (oldest.done) break
      this.delete(oldest.value)
    }
    return true
  }

  /** Removes the entry for `id`; true if there was one. */
  delete(id: K): boolean {
    const data = this.entries.get(id)
    if (data === undefined) return false
    this.entries.delete(id)
    this.bytes -= data.byteLength
    return true
  }

  /** Removes every entry. */
  clear(): void {
    this.entries.clear()
    this.bytes = 0
  }

  /** Ids from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.entries.keys()
  }
}
