import type { Id } from '../../id/Id.js'
import type { SnapshotFile } from '../../repofile/index.js'
import type { PruneOptions } from '../prune/PruneOptions.js'
import type { SnapshotGroup } from '../snapshots/SnapshotGroup.js'

/**
 * The counters of the count options after a kept snapshot was counted (restic's `KeepReason.Counters`):
 * how many more periods each option keeps; -1 = unlimited. Options not given are left out.
 */
export interface KeepCounters {
  last?: number
  minutely?: number
  hourly?: number
  daily?: number
  weekly?: number
  monthly?: number
  quarterYearly?: number
  halfYearly?: number
  yearly?: number
}

/** One snapshot of a forget plan: whether it is kept, and why. */
export interface ForgetSnapshot {
  snapshot: SnapshotFile
  /** True if the snapshot stays. */
  keep: boolean
  /**
   * Why: for a kept snapshot the rules that keep it, in restic's words (`last snapshot`, `daily snapshot`,
   * `within 1y2m`, `daily within 7d`, `has tags [a, b]`) and rustic's (`minutely snapshot`, `quarter-yearly
   * snapshot`, `has id 1a2b`, `delete: never`, `delete: after <time>`); for a removed one what removes it
   * when that is not just "no rule keeps it" (`unchanged`, `delete after <time> has passed`, `given`).
   */
  reasons: string[]
  /** For a snapshot kept by the rules: the counters after it. */
  counters?: KeepCounters
}

/** A group's snapshots with their fate, newest first. */
export interface ForgetGroup {
  group: SnapshotGroup
  snapshots: ForgetSnapshot[]
}

/** What {@link Repository.forget} will remove (the result of {@link Repository.planForget}). */
export interface ForgetPlan {
  /** The groups, as rustic orders them. */
  groups: ForgetGroup[]
  /** Ids of every snapshot to remove. */
  remove: Id[]
  /** The time delete policies were judged at (RFC 3339). */
  now: string
  /** Prune options when the forget prunes afterwards (option `prune`). */
  prune?: PruneOptions
}
