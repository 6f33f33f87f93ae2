export * from './globFilter.js'
export * from './nodeFormat.js'
export * from './ls.js'
export * from './find.js'
export * from './diff.js'
export * from './dump.js'
export * from './restore/index.js'
export * from './unlock.js'
export { CopyOptionsSchema, snapshotsToCopy, type CopyOptions, type CopyPlan, type CopySnapshotPlan } from './copy/planCopy.js'
export type { CopiedSnapshot, CopyResult } from './copy/copy.js'
export { MergeOptionsSchema, type MergeOptions, type MergeResult } from './merge/mergeSnapshots.js'
export { StatsModeSchema, StatsOptionsSchema, type StatsMode, type StatsOptions, type StatsResult } from './stats/stats.js'
export {
  RepoInfoOptionsSchema,
  type BlobInfo,
  type PackInfo,
  type RepoFileInfo,
  type RepoInfo,
  type RepoInfoOptions,
} from './repoinfo/repoInfo.js'
export type { KeyInfo } from './key/listKeys.js'
export { AddKeyOptionsSchema, type AddKeyOptions } from './key/addKey.js'
export type { ChangePasswordResult } from './key/changePassword.js'
export { ConfigOptionsSchema, type ConfigOptions } from './config/ConfigOptions.js'
export type { ApplyConfigResult } from './config/applyConfig.js'
