/**
 * rustic-ts: encrypted, deduplicated backups in the restic repository format.
 * This batteries-included package re-exports `@rustic-ts/core` and every backend,
 * and resolves repository strings (`rest:...`, `rclone:...`, `opendal:...`, a path) to backends.
 * @packageDocumentation
 */
export * from '@rustic-ts/core'
export * from '@rustic-ts/backend-local'
export * from '@rustic-ts/backend-rest'
export * from '@rustic-ts/backend-rclone'
export * from '@rustic-ts/backend-opendal'
export * from '@rustic-ts/cache'
export * from './backendsFromOptions.js'
export * from './openRepository.js'

import { LocalBackend } from '@rustic-ts/backend-local'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'
import { RcloneBackend } from '@rustic-ts/backend-rclone'
import { RestBackend } from '@rustic-ts/backend-rest'
import { registerBackendClasses } from './backendsFromOptions.js'

registerBackendClasses({ LocalBackend, RestBackend, RcloneBackend, OpenDalBackend })
