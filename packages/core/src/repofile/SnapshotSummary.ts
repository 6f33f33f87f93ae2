import { z } from 'zod'
import { GoTimeSchema } from './GoTimeSchema.js'
import { rawJsonMembers, unknownMembers, withExtra } from './decodeJson.js'

/**
 * Statistics of the backup that made a snapshot. The first fields are restic's (0.17+); the optional
 * ones after them are rustic's additions. JSON keys are snake_case (`backup_start`, `files_new`, …).
 */
export interface SnapshotSummary {
  /** When the backup started (RFC 3339). */
  backupStart: string
  /** When the backup ended (RFC 3339). */
  backupEnd: string
  /** Files new compared to the parent snapshot. */
  filesNew: number
  /** Files changed compared to the parent snapshot. */
  filesChanged: number
  /** Files unchanged compared to the parent snapshot. */
  filesUnmodified: number
  /** Directories new compared to the parent snapshot. */
  dirsNew: number
  /** Directories changed compared to the parent snapshot. */
  dirsChanged: number
  /** Directories unchanged compared to the parent snapshot. */
  dirsUnmodified: number
  /** Data blobs added. */
  dataBlobs: number
  /** Tree blobs added. */
  treeBlobs: number
  /** Uncompressed bytes added. */
  dataAdded: number
  /** Bytes added to the repository (compressed, encrypted). */
  dataAddedPacked: number
  /** Files processed. */
  totalFilesProcessed: number
  /** Bytes of files processed. */
  totalBytesProcessed: number
  /** rustic: uncompressed bytes of file contents added. */
  dataAddedFiles?: number
  /** rustic: packed bytes of file contents added. */
  dataAddedFilesPacked?: number
  /** rustic: uncompressed bytes of trees added. */
  dataAddedTrees?: number
  /** rustic: packed bytes of trees added. */
  dataAddedTreesPacked?: number
  /** rustic: directories processed. */
  totalDirsProcessed?: number
  /** rustic: total size of the processed directories' tree data. */
  totalDirsizeProcessed?: number
  /** rustic: seconds between `backup_start` and `backup_end`. */
  backupDuration?: number
  /** rustic: seconds the whole command ran. */
  totalDuration?: number
  /** rustic: the command line that made the backup. */
  command?: string
  /** Unknown JSON members, written back verbatim after the known ones. */
  extra?: Record<string, unknown>
}

const count = z.number().int().nonnegative().default(0)
const optCount = z.number().int().nonnegative().optional()

/** zod schema of a snapshot summary's JSON (restic's counters default to 0 when absent). */
export const SnapshotSummarySchema = z.object({
  backup_start: GoTimeSchema.optional(),
  backup_end: GoTimeSchema.optional(),
  files_new: count,
  files_changed: count,
  files_unmodified: count,
  dirs_new: count,
  dirs_changed: count,
  dirs_unmodified: count,
  data_blobs: count,
  tree_blobs: count,
  data_added: count,
  data_added_packed: count,
  total_files_processed: count,
  total_bytes_processed: count,
  data_added_files: optCount,
  data_added_files_packed: optCount,
  data_added_trees: optCount,
  data_added_trees_packed: optCount,
  total_dirs_processed: optCount,
  total_dirsize_processed: optCount,
  backup_duration: z.number().optional(),
  total_duration: z.number().optional(),
  command: z.string().optional(),
})

const KNOWN = new Set(Object.keys(SnapshotSummarySchema.shape))

/** The JSON object of a summary, in restic's field order, then rustic's, then `extra`. */
export function snapshotSummaryToJson(s: SnapshotSummary): Record<string, unknown> {
  return withExtra(
    {
      backup_start: s.backupStart,
      backup_end: s.backupEnd,
      files_new: s.filesNew,
      files_changed: s.filesChanged,
      files_unmodified: s.filesUnmodified,
      dirs_new: s.dirsNew,
      dirs_changed: s.dirsChanged,
      dirs_unmodified: s.dirsUnmodified,
      data_blobs: s.dataBlobs,
      tree_blobs: s.treeBlobs,
      data_added: s.dataAdded,
      data_added_packed: s.dataAddedPacked,
      total_files_processed: s.totalFilesProcessed,
      total_bytes_processed: s.totalBytesProcessed,
      data_added_files: s.dataAddedFiles,
      data_added_files_packed: s.dataAddedFilesPacked,
      data_added_trees: s.dataAddedTrees,
      data_added_trees_packed: s.dataAddedTreesPacked,
      total_dirs_processed: s.totalDirsProcessed,
      total_dirsize_processed: s.totalDirsizeProcessed,
      backup_duration: s.backupDuration,
      total_duration: s.totalDuration,
      command: s.command,
    },
    s.extra,
  )
}

/**
 * A summary from its validated JSON object.
 * @param raw - the summary's parsed (unvalidated) JSON object.
 * @param rawText - gives the summary's own JSON text, to keep unknown members verbatim (called only if there are any).
 * @param fallbackTime - used for a missing `backup_start`/`backup_end` (the snapshot time).
 */
export function snapshotSummaryFromJson(
  o: z.output<typeof SnapshotSummarySchema>,
  raw: Record<string, unknown>,
  rawText: () => string | undefined,
  fallbackTime: string,
): SnapshotSummary {
  const s: SnapshotSummary = {
    backupStart: o.backup_start ?? fallbackTime,
    backupEnd: o.backup_end ?? fallbackTime,
    filesNew: o.files_new,
    filesChanged: o.files_changed,
    filesUnmodified: o.files_unmodified,
    dirsNew: o.dirs_new,
    dirsChanged: o.dirs_changed,
    dirsUnmodified: o.dirs_unmodified,
    dataBlobs: o.data_blobs,
    treeBlobs: o.tree_blobs,
    dataAdded: o.data_added,
    dataAddedPacked: o.data_added_packed,
    totalFilesProcessed: o.total_files_processed,
    totalBytesProcessed: o.total_bytes_processed,
  }
  if (o.data_added_files !== undefined) s.dataAddedFiles = o.data_added_files
  if (o.data_added_files_packed !== undefined) s.dataAddedFilesPacked = o.data_added_files_packed
  if (o.data_added_trees !== undefined) s.dataAddedTrees = o.data_added_trees
  if (o.data_added_trees_packed !== undefined) s.dataAddedTreesPacked = o.data_added_trees_packed
  if (o.total_dirs_processed !== undefined) s.totalDirsProcessed = o.total_dirs_processed
  if (o.total_dirsize_processed !== undefined) s.totalDirsizeProcessed = o.total_dirsize_processed
  if (o.backup_duration !== undefined) s.backupDuration = o.backup_duration
  if (o.total_duration !== undefined) s.totalDuration = o.total_duration
  if (o.command !== undefined) s.command = o.command
  if (Object.keys(raw).some((k) => !KNOWN.has(k))) {
    const text = rawText()
    const extra = text === undefined ? undefined : unknownMembers(text, raw, KNOWN)
    if (extra !== undefined) s.extra = extra
  }
  return s
}

/** The raw JSON text of member `key` of the JSON object `text`, if present. */
export function rawMemberText(text: string, key: string): string | undefined {
  let found: string | undefined
  for (const [k, v] of rawJsonMembers(text)) if (k === key) found = v.text
  return found
}
