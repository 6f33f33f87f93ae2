export * from './RusticError.js'
export * from './repositoryDamage.js'
