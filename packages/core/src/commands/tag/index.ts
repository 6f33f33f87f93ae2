export {
  SnapshotModificationSchema,
  applyModification,
  type ResolvedSnapshotModification,
  type SnapshotModification,
} from './SnapshotModification.js'
export type { ModifiedSnapshot, ModifySnapshotsResult } from './modifySnapshots.js'
