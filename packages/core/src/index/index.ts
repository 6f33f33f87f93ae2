export * from './BlobIndex.js'
