export * from './backup.js'
export * from './SnapshotOptions.js'
export * from './adoptOrphanPacks.js'
