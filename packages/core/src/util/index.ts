export * from './command.js'
export * from './LruCache.js'
export * from './duration.js'
export * from './size.js'
