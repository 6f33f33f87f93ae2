/** A file that could not be backed up, and why. */
export interface SkippedEntry {
  path: string
  error: string
}

/** Counters a backup keeps (restic's summary, see `SnapshotSummary`). */
export class BackupStats {
  filesNew = 0
  filesChanged = 0
  filesUnmodified = 0
  dirsNew = 0
  dirsChanged = 0
  dirsUnmodified = 0
  totalFilesProcessed = 0
  totalBytesProcessed = 0
  totalDirsProcessed = 0
  totalDirsizeProcessed = 0
  /** Entries left out because they could not be read. */
  readonly skipped: SkippedEntry[] = []

  /** Counts a file or directory as new, changed or unmodified against its parent-snapshot node. */
  count(kind: 'file' | 'dir', state: 'new' | 'changed' | 'unmodified'): void {
    if (kind === 'file') {
      if (state === 'new') this.filesNew++
      else if (state === 'changed') this.filesChanged++
      else this.filesUnmodified++
    } else if (state === 'new') this.dirsNew++
    else if (state === 'changed') this.dirsChanged++
    else this.dirsUnmodified++
  }
}
