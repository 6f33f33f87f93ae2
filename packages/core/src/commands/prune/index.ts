export * from './PruneOptions.js'
export * from './PrunePlan.js'
