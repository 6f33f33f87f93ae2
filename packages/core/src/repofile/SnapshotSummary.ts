import { z } from 'zod'
import { GoTimeSchema } from './GoTimeSchema.js'
import { isGoTime } from './goTime.js'
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

/** restic's counters: default 0 when absent. */
const COUNTS = [
  'files_new',
  'files_changed',
  'files_unmodified',
  'dirs_new',
  'dirs_changed',
  'dirs_unmodified',
  'data_blobs',
  'tree_blobs',
  'data_added',
  'data_added_packed',
  'total_files_processed',
  'total_bytes_processed',
] as const
/** rustic's counters: left out when absent. */
const OPTIONAL_COUNTS = [
  'data_added_files',
  'data_added_files_packed',
  'data_added_trees',
  'data_added_trees_packed',
  'total_dirs_processed',
  'total_dirsize_processed',
] as const

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/**
 * The checks of {@link SnapshotSummarySchema} without zod, for summaries as restic and rustic write them
 * (listing 1,000 snapshots spent ~30 ms in the schema): the same result, or `undefined` for anything it is
 * not sure of (a wrong type, `null`, a count beyond 2^53), which then goes through the schema (which also
 * makes the error message).
 */
export function fastSummaryJson(raw: Record<string, unknown>): z.output<typeof SnapshotSummarySchema> | undefined {
  const out: Record<string, unknown> = {}
  const start = raw['backup_start']
  const end = raw['backup_end']
  if (start !== undefined) {
    if (typeof start !== 'string' || !isGoTime(start)) return undefined
    out['backup_start'] = start
  }
  if (end !== undefined) {
    if (typeof end !== 'string' || !isGoTime(end)) return undefined
    out['backup_end'] = end
  }
  for (const k of COUNTS) {
    const v = raw[k]
    if (v === undefined) out[k] = 0
    else if (isCount(v)) out[k] = v
    else return undefined
  }
  for (const k of OPTIONAL_COUNTS) {
    const v = raw[k]
    if (v === undefined) continue
    if (!isCount(v)) return undefined
    out[k] = v
  }
  for (const k of ['backup_duration', 'total_duration'] as const) {
    const v = raw[k]
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined
    out[k] = v
  }
  const command = raw['command']
  if (command !== undefined) {
    if (typeof command !== 'string') return undefined
    out['command'] = command
  }
  return out as z.output<typeof SnapshotSummarySchema>
}

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
