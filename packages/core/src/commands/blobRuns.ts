/** Where a blob lies in its pack. */
export interface BlobExtent {
  offset: number
  length: number
}

/**
 * Splits blobs of one pack, sorted by offset, into runs that are each read with one request: a run takes
 * the next blob while the gap before it is at most `maxGap` bytes and the run stays within `maxRead`
 * bytes (a larger blob is a run of its own). Used by copy and prune's repacking.
 */
export function blobRuns<T>(sorted: readonly T[], extent: (blob: T) => BlobExtent, maxGap: number, maxRead: number): T[][] {
  const runs: T[][] = []
  let run: T[] = []
  let start = 0
  let end = 0
  for (const blob of sorted) {
    const { offset, length } = extent(blob)
    if (run.length > 0 && (offset < end || offset - end > maxGap || offset + length - start > maxRead)) {
      runs.push(run)
      run = []
    }
    if (run.length === 0) start = offset
    run.push(blob)
    end = offset + length
  }
  if (run.length > 0) runs.push(run)
  return runs
}
