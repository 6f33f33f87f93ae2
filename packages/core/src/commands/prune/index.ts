export * from './PruneOptions.js'
export * from './PrunePlan.js'
export { planPrune } from './planPrune.js'
export { prune } from './prune.js'
