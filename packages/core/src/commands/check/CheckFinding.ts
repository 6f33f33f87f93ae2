import type { FileType } from '../../backend/FileType.js'
import type { Id } from '../../id/Id.js'
import type { BlobType } from '../../repofile/index.js'

/**
 * How bad a finding is: `error` (the repository is damaged: data may be lost), `warning` (something
 * should be corrected, the data is intact) or `info` (worth knowing, nothing to do).
 */
export type CheckLevel = 'error' | 'warning' | 'info'

/** What a finding is about. The level of each kind is fixed (see {@link CHECK_KIND_LEVEL}). */
export type CheckFindingKind =
  // files other than packs
  | 'keyDamaged'
  | 'indexDamaged'
  | 'snapshotDamaged'
  // index against packs
  | 'indexOverlap'
  | 'indexTimeMissing'
  | 'packInSeveralIndexes'
  | 'mixedPack'
  | 'duplicateBlob'
  | 'packMissing'
  | 'packSizeMismatch'
  | 'packUnreferenced'
  // snapshots and trees
  | 'treeMissing'
  | 'treeDamaged'
  | 'fileContentMissing'
  | 'fileBlobNull'
  | 'fileBlobMissing'
  | 'dirSubtreeMissing'
  | 'dirSubtreeNull'
  | 'nodeTypeInvalid'
  | 'nodeNameEmpty'
  | 'unusedBlob'
  // read-data
  | 'packReadFailed'
  | 'packHashMismatch'
  | 'packHeaderDamaged'
  | 'packHeaderMismatch'
  | 'blobDamaged'
  // hot repository and cache
  | 'hotFileMissing'
  | 'coldFileMissing'
  | 'hotFileMismatch'
  | 'hotPackUnexpected'
  | 'cacheDamaged'
  | 'cacheStale'

/** The level of each finding kind. */
export const CHECK_KIND_LEVEL: Readonly<Record<CheckFindingKind, CheckLevel>> = {
  keyDamaged: 'error',
  indexDamaged: 'error',
  snapshotDamaged: 'error',
  indexOverlap: 'error',
  indexTimeMissing: 'warning',
  packInSeveralIndexes: 'warning',
  mixedPack: 'warning',
  duplicateBlob: 'info',
  packMissing: 'error',
  packSizeMismatch: 'error',
  packUnreferenced: 'info',
  treeMissing: 'error',
  treeDamaged: 'error',
  fileContentMissing: 'error',
  fileBlobNull: 'error',
  fileBlobMissing: 'error',
  dirSubtreeMissing: 'error',
  dirSubtreeNull: 'error',
  nodeTypeInvalid: 'error',
  nodeNameEmpty: 'error',
  unusedBlob: 'info',
  packReadFailed: 'error',
  packHashMismatch: 'error',
  packHeaderDamaged: 'error',
  packHeaderMismatch: 'error',
  blobDamaged: 'error',
  hotFileMissing: 'error',
  coldFileMissing: 'error',
  hotFileMismatch: 'error',
  hotPackUnexpected: 'warning',
  cacheDamaged: 'warning',
  cacheStale: 'info',
}

/** One problem (or note) found by `check`. */
export interface CheckFinding {
  /** How bad it is. */
  level: CheckLevel
  /** What it is about. */
  kind: CheckFindingKind
  /** One line for people (restic's wording where restic has one). */
  message: string
  /** The repository file concerned (a pack, index, snapshot or key file). */
  file?: { type: FileType; id: Id }
  /** The blob concerned. */
  blob?: { type: BlobType; id: Id }
  /** The snapshot whose tree led to the problem. */
  snapshot?: Id
  /** The path inside the snapshot (`/`-separated). */
  path?: string
}

/** Counts of findings by level. */
export interface CheckSummary {
  errors: number
  warnings: number
  infos: number
}

/** What `check` found and how much it looked at. */
export interface CheckResult {
  /** Every finding, in the order found. */
  findings: CheckFinding[]
  /** Counts by level. */
  summary: CheckSummary
  /** Snapshots whose trees were walked. */
  snapshots: number
  /** Distinct trees read. */
  trees: number
  /** Packs listed in the index. */
  packs: number
  /** Packs read and verified (`readData`). */
  packsRead: number
  /** Bytes of those packs. */
  bytesRead: number
}

/** True if any finding is an error. */
export function hasErrors(result: Pick<CheckResult, 'summary'>): boolean {
  return result.summary.errors > 0
}

/** Collects findings as a check goes, passing each to an optional listener at once. */
export class FindingCollector {
  /** The findings so far. */
  readonly findings: CheckFinding[] = []
  private readonly counts: CheckSummary = { errors: 0, warnings: 0, infos: 0 }

  constructor(private readonly listener?: (finding: CheckFinding) => void) {}

  /** Records a finding of `kind` (its level comes from {@link CHECK_KIND_LEVEL}). */
  add(kind: CheckFindingKind, message: string, about: Omit<CheckFinding, 'level' | 'kind' | 'message'> = {}): CheckFinding {
    const level = CHECK_KIND_LEVEL[kind]
    const finding: CheckFinding = { level, kind, message, ...about }
    this.findings.push(finding)
    if (level === 'error') this.counts.errors++
    else if (level === 'warning') this.counts.warnings++
    else this.counts.infos++
    this.listener?.(finding)
    return finding
  }

  /** Counts by level. */
  get summary(): CheckSummary {
    return { ...this.counts }
  }
}
