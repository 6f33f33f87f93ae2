/**
 * A rustic-ts backend over any service of the `opendal` npm binding (fs, memory, s3, webdav, gcs, azblob, ...).
 * @packageDocumentation
 */
export { OpenDalBackend } from './OpenDalBackend.js'
export { OpenDalBackendOptionsSchema } from './OpenDalBackendOptions.js'
export type { OpenDalBackendOptions } from './OpenDalBackendOptions.js'
