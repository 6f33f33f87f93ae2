export { CopyOptionsSchema, planCopy, snapshotsToCopy, type CopyOptions, type CopyPlan, type CopySnapshotPlan } from './planCopy.js'
export { copy, type CopiedSnapshot, type CopyResult } from './copy.js'
