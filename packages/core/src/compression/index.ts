export * from './CompressionMode.js'
export * from './Zstd.js'
