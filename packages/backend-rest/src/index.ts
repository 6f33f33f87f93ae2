/**
 * restic REST protocol backend for rustic-ts: talks to rest-server, `rclone serve restic` and
 * rustic-ts's own REST server. `RestProtocolBackend` speaks the protocol over any `RestTransport`.
 * @packageDocumentation
 */
export { RestBackend } from './RestBackend.js'
export { RestBackendOptionsSchema } from './RestBackendOptions.js'
export type { RestBackendOptions } from './RestBackendOptions.js'
export { RestProtocolBackend } from './RestProtocolBackend.js'
export type { RestProtocolOptions } from './RestProtocolBackend.js'
export type { RestTransport, RestRequest, RestResponse, RestMethod } from './RestTransport.js'
export { UndiciTransport } from './UndiciTransport.js'
export type { UndiciTransportOptions } from './UndiciTransport.js'
