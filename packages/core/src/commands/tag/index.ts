export {
  SnapshotModificationSchema,
  applyModification,
  type ResolvedSnapshotModification,
  type SnapshotModification,
} from './SnapshotModification.js'
export { modifySnapshots, type ModifiedSnapshot, type ModifySnapshotsResult } from './modifySnapshots.js'
