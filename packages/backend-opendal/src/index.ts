/**
 * A rustic-ts backend over any service of the `opendal` npm binding (fs, memory, s3, webdav, gcs, azblob, ...).
 * @packageDocumentation
 */
export * from './OpenDalBackend.js'
export * from './OpenDalBackendOptions.js'
export * from './mapOpenDalError.js'
