/**
 * rclone backend for rustic-ts: runs `rclone serve restic --stdio` and speaks the restic REST
 * protocol over HTTP/2 on its stdin/stdout, so any rclone remote can hold a repository.
 * @packageDocumentation
 */
export * from './RcloneBackend.js'
export * from './RcloneBackendOptions.js'
export { MIN_RCLONE_VERSION, parseRcloneVersion } from './rcloneVersion.js'
export { redactRclonePath, redactRcloneText } from './redactRclonePath.js'
