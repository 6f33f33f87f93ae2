/**
 * Everything of `@rustic-ts/core`, internals included: the command functions behind the repository
 * methods, the blob/pack/index layer, the chunker, the file format codecs. For rustic-ts's own packages
 * and tests; no stability promise (the stable API is `@rustic-ts/core`, listed in `docs/api-surface.md`).
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
export * from './workers/index.js'
export * from './repository/index.js'
export * from './archiver/index.js'
export { prestartDirectoryWorker } from './archiver/sources/DirectoryWorker.js'
export * from './commands/index.js'
export * from './commands/backup/index.js'
export * from './commands/snapshots/index.js'
export * from './commands/tag/index.js'
export * from './commands/forget/index.js'
