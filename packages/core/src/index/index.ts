export * from './BlobIndex.js'
export * from './Indexer.js'
export * from './BlobsInFlight.js'
