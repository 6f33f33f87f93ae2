/**
 * Core of rustic-ts: the restic repository format, crypto, backends, blob and index layer,
 * `Repository` and every command.
 * @packageDocumentation
 */
export * from './error/index.js'
export * from './id/index.js'
export * from './progress/index.js'
export * from './util/index.js'
export * from './crypto/index.js'
export * from './compression/index.js'
export * from './repofile/index.js'
export * from './backend/index.js'
export * from './chunker/index.js'
export * from './blob/index.js'
export * from './index/index.js'
export * from './repository/index.js'
export * from './archiver/index.js'
export * from './commands/index.js'
export * from './commands/backup/index.js'
export * from './commands/snapshots/index.js'
export * from './commands/tag/index.js'
export * from './commands/forget/index.js'
