/**
 * Cache decorators for rustic-ts backends: an on-disk cache of cacheable repository files
 * (`CachedBackend`) and an in-memory LRU of blobs (`LruBlobCache`).
 * @packageDocumentation
 */
export { CachedBackend, CachedBackendOptionsSchema } from './CachedBackend.js'
export type { CachedBackendOptions, CacheWarningHandler } from './CachedBackend.js'
export { LruBlobCache, LruBlobCacheOptionsSchema } from './LruBlobCache.js'
export type { LruBlobCacheOptions } from './LruBlobCache.js'
export { defaultCacheBase, defaultCacheDir } from './defaultCacheDir.js'
