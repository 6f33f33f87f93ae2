import type { Id } from '../../id/Id.js'
import type { BlobType, IndexBlob } from '../../repofile/index.js'
import type { ResolvedPruneOptions } from './PruneOptions.js'

/**
 * What prune does with a pack (rustic's `PackToDo`):
 * - `keep`: stays as it is (an index file that is rewritten lists it again);
 * - `repack`: its needed blobs are copied into new packs, then the pack is marked for deletion (or removed
 *   with `instantDelete`);
 * - `markDelete`: nothing in it is needed: listed under `packs_to_delete` of a new index file, with the
 *   prune's time, for a later prune to remove (a pack no index names is marked the same way);
 * - `delete`: removed now (a pack marked by an earlier prune at least `keepDelete` ago and still not needed,
 *   or any unneeded pack with `instantDelete`);
 * - `recover`: marked by an earlier prune, but a snapshot needs it again (a backup that ran without locks
 *   next to that prune): listed as an ordinary pack again;
 * - `keepMarked`: marked by an earlier prune less than `keepDelete` ago: stays marked.
 */
export type PackAction = 'keep' | 'repack' | 'markDelete' | 'delete' | 'recover' | 'keepMarked'

/**
 * Why a pack got its action (rustic's `PackStatus`, plus `unindexed`, `missing` and `mixed`):
 * `hasUsedBlobs` / `hasUnusedBlobs`, `marked` (under `packs_to_delete`), `tooYoung` (younger than
 * `keepPack`), `timeNotSet` (marked without a time: its time is set now), `tooSmall` / `tooLarge` (size off
 * the target pack size), `notCompressed` (with `repackUncompressed`), `mixed` (data and tree blobs in one
 * pack), `unindexed` (no index file names it), `missing` (an index names it, but the file is gone).
 */
export type PackStatus =
  | 'hasUsedBlobs'
  | 'hasUnusedBlobs'
  | 'marked'
  | 'tooYoung'
  | 'timeNotSet'
  | 'tooSmall'
  | 'tooLarge'
  | 'notCompressed'
  | 'mixed'
  | 'unindexed'
  | 'missing'

/** One pack file and what prune does with it. */
export interface PrunePack {
  /** The pack id. */
  id: Id
  /** The type of its (first) blob; undefined when no index describes its blobs (`unindexed`). */
  blobType: BlobType | undefined
  /** Its size in bytes (from the index; for unindexed packs, from the listing). */
  size: number
  /** What prune does with it. */
  action: PackAction
  /** Why. */
  status: PackStatus[]
  /** True if an earlier prune had marked it (it was under `packs_to_delete`). */
  marked: boolean
  /** The index file listing it (undefined for a pack no index names). */
  indexFile: Id | undefined
  /** Its time in the index (creation, or when it was marked), if any. */
  time: string | undefined
  /** Blobs in it that snapshots need. */
  usedBlobs: number
  /** Blobs in it that no snapshot needs (or that are kept in another pack). */
  unusedBlobs: number
  /** Stored bytes of its used blobs. */
  usedSize: number
  /** Stored bytes of its unused blobs. */
  unusedSize: number
  /** Its blobs as the index lists them (written again into the new index file). */
  blobs: IndexBlob[]
  /** For `repack`: the blobs copied into new packs (those no kept pack holds), by offset. */
  copy?: IndexBlob[]
}

/** Blob counts or stored bytes by what prune does with them (rustic's `SizeStats`). */
export interface PruneBlobStats {
  /** Needed by a snapshot. */
  used: number
  /** Not needed (or duplicates of needed ones). */
  unused: number
  /** Unused, in packs marked for deletion or deleted now (packs an earlier prune marked included). */
  remove: number
  /** In packs that are repacked (used and unused). */
  repack: number
  /** Unused, in packs that are repacked (dropped by repacking). */
  repackRemove: number
}

/** Number and bytes of pack files. */
export interface PackCount {
  packs: number
  bytes: number
}

/** The numbers of a {@link PrunePlan}. */
export interface PruneStats {
  /** Blob counts, by blob type. */
  blobs: Record<BlobType, PruneBlobStats>
  /** Stored blob bytes, by blob type. */
  bytes: Record<BlobType, PruneBlobStats>
  /** Packs (not marked before) by use: all blobs used, some used, none used. */
  packsByUse: { used: number; partlyUsed: number; unused: number }
  /** Pack files by the action prune takes. */
  actions: Record<PackAction, PackCount>
  /** Pack files no index names (marked, or deleted with `instantDelete`). */
  unindexed: PackCount
  /** Every pack file in the repository. */
  repository: PackCount
  /** Index files read, and how many of them are replaced. */
  indexFiles: { total: number; rewrite: number }
  /** Totals in bytes (stored blob bytes, without pack headers, as restic prints them). */
  totals: PruneTotals
}

/** Totals of a prune plan, in bytes (restic's summary). */
export interface PruneTotals {
  /** Blobs snapshots need. */
  used: number
  /** Blobs nothing needs, in indexed packs. */
  unused: number
  /** Pack files no index names. */
  unindexed: number
  /** Everything: used + unused + unindexed. */
  total: number
  /** Blob bytes in packs that are repacked. */
  repack: number
  /** Unused blob bytes that repacking drops. */
  repackRemove: number
  /** Unused blob bytes in packs marked or deleted whole, plus unindexed packs. */
  remove: number
  /** What this prune frees, now or (marked packs) after `keepDelete`: remove + repackRemove. */
  prune: number
  /** total - prune. */
  remaining: number
  /** Unused bytes left after this prune. */
  unusedAfter: number
}

/**
 * What prune will do (rustic's `PrunePlan`), from `Repository.planPrune`: every pack with its action and the
 * reasons, the numbers, and what the plan was made from. Carry it out with `Repository.prune(plan)`.
 */
export interface PrunePlan {
  /** When the plan was made (the options' `now`), RFC 3339: marks written by this prune carry it. */
  time: string
  /** The options the plan was made with. */
  options: ResolvedPruneOptions
  /** The snapshots whose data is kept (all but `ignoreSnapshots`). */
  snapshots: Id[]
  /** Every index file read. */
  indexFiles: Id[]
  /** The index files that prune replaces with new ones (written before these are removed). */
  rewriteIndexFiles: Id[]
  /** Every pack file: those the index files name (once each) and those no index names. */
  packs: PrunePack[]
  /** The numbers. */
  stats: PruneStats
}

/** What `Repository.prune` did. */
export interface PruneResult {
  /** True when the plan was made with `dryRun`: nothing was changed. */
  dryRun: boolean
  /** Index files written. */
  indexFilesWritten: Id[]
  /** Index files removed (replaced by the new ones). */
  indexFilesRemoved: Id[]
  /** Packs marked for deletion by this prune (including repacked and unindexed ones). */
  packsMarked: number
  /** Marked packs taken back because snapshots need them. */
  packsRecovered: number
  /** Pack files removed. */
  packsRemoved: number
  /** Their bytes. */
  bytesRemoved: number
  /** Blobs copied into new packs. */
  blobsRepacked: number
  /** Stored bytes of the copied blobs (as read). */
  bytesRepacked: number
  /** New pack files written by repacking. */
  packsWritten: number
}
