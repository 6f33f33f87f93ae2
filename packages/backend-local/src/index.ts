/**
 * Local filesystem backend for rustic-ts (restic's repository layout).
 * @packageDocumentation
 */
export * from './LocalBackend.js'
export { fsError } from './fsError.js'
