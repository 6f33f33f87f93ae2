export {
  DEFAULT_GROUP_CRITERION,
  SnapshotGroupCriterionSchema,
  formatGroupCriterion,
  parseGroupCriterion,
  type SnapshotGroupCriterion,
} from './SnapshotGroupCriterion.js'
export { compareSnapshotGroups, isEmptyGroup, snapshotGroupOf, type SnapshotGroup } from './SnapshotGroup.js'
export { GroupSnapshotsOptionsSchema, groupSnapshotList, groupSnapshots, type GroupSnapshotsOptions, type GroupedSnapshots } from './groupSnapshots.js'
export { deletePolicyAt, type DeletePolicySpec } from './deletePolicy.js'
export { DeleteSnapshotsOptionsSchema, deleteSnapshots, type DeleteSnapshotsOptions, type DeleteSnapshotsResult } from './deleteSnapshots.js'
