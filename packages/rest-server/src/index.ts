/**
 * A restic REST server (protocol v1 and v2, as restic's rest-server) over any rustic-ts backend.
 * @packageDocumentation
 */
export { createRestServer } from './createRestServer.js'
export type { ListeningAddress, RestServer } from './createRestServer.js'
export { RestServerOptionsSchema, parseRestServerOptions } from './RestServerOptions.js'
export type { AccessLogEntry, Authenticator, RepositoryResolver, ResolvedRestServerOptions, RestServerOptions } from './RestServerOptions.js'
export { Htpasswd } from './Htpasswd.js'
export { ServerMetrics } from './ServerMetrics.js'
export type { FileOperation } from './ServerMetrics.js'
export { parseListenAddress } from './parseListenAddress.js'
