/**
 * Local filesystem backend for rustic-ts (restic's repository layout).
 * @packageDocumentation
 */
export { LocalBackend, LocalBackendOptionsSchema } from './LocalBackend.js'
export type { LocalBackendOptions } from './LocalBackend.js'
export { fsError } from './fsError.js'
