export { MergeOptionsSchema, mergePaths, mergeSnapshots, type MergeOptions, type MergeResult } from './mergeSnapshots.js'
export { lastModifiedNode, mergeTrees, type MergeCounts, type MergeTreesContext, type NodeComparator } from './mergeTrees.js'
