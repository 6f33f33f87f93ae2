/**
 * rclone backend for rustic-ts: runs `rclone serve restic --stdio` and speaks the restic REST
 * protocol over HTTP/2 on its stdin/stdout, so any rclone remote can hold a repository.
 * @packageDocumentation
 */
export { RcloneBackend } from './RcloneBackend.js'
export { RcloneBackendOptionsSchema } from './RcloneBackendOptions.js'
export type { RcloneBackendOptions } from './RcloneBackendOptions.js'
export { MIN_RCLONE_VERSION } from './rcloneVersion.js'
