export * from './BlobIndex.js'
export * from './Indexer.js'
