export * from './RusticError.js'
