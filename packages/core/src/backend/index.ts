export * from './Backend.js'
export * from './BackendError.js'
export * from './FileType.js'
