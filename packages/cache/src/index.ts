/**
 * Cache decorators for rustic-ts backends: an on-disk cache of cacheable repository files
 * (`CachedBackend`) and an in-memory LRU of blobs (`LruBlobCache`).
 * @packageDocumentation
 */
export * from './CachedBackend.js'
export * from './DiskCache.js'
export * from './LruBlobCache.js'
export * from './cacheDirTag.js'
export * from './defaultCacheDir.js'
