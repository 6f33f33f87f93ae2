export * from './LocalSource.js'
export * from './LocalSourceOptions.js'
export * from './StreamSource.js'
export * from './CommandSource.js'
