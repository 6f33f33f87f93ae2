export * from './Progress.js'
export * from './Control.js'
