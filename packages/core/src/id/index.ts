export * from './Id.js'
