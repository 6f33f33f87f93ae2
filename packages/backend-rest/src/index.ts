/**
 * restic REST protocol backend for rustic-ts: talks to rest-server, `rclone serve restic` and
 * rustic-ts's own REST server.
 * @packageDocumentation
 */
export * from './RestBackend.js'
export * from './RestBackendOptions.js'
export * from './RestProtocolBackend.js'
export * from './RestTransport.js'
export * from './UndiciTransport.js'
export * from './RestUrl.js'
export * from './restErrors.js'
