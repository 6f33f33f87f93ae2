export * from './Progress.js'
