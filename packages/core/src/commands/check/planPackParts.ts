import type { IndexBlob } from '../../repofile/IndexFile.js'
import { byOffset } from './byOffset.js'
import type { PackPart } from './PackVerifier.js'
import type { PackReadPlan } from './planPackReads.js'

/** One part of a pack's verifying (see {@link planPackParts}). */
export interface PlannedPackPart {
  part: PackPart
  /** What this part reads: the pack's tail, and the pieces from `part.start` to `part.end`. */
  plan: PackReadPlan
  /**
   * The index entries its verifier is given: all of the pack's for the lead part (which compares them with the
   * header), the part's own blobs for the others (all they check: less to send to a worker).
   */
  blobs: IndexBlob[]
  /** Its share of the pack's bytes (the parts' add up to the pack's size), for progress. */
  bytes: number
  /** Its share of the work of verifying the pack, in `0..1` (the parts' add up to 1). */
  share: number
}

/**
 * Splits the verifying of a pack (of `size` bytes, indexed as `blobs`, to be read as `plan` says) into up to `n`
 * parts of about the same work (see `PackPart`), so that threads can verify one pack side by side: the lead part
 * reads every byte (it hashes the pack: the SHA-256 needs the bytes in order) and checks the first blobs and the
 * header; each other part reads only the pieces holding its blobs. Parts are cut only where `plan` cuts pieces
 * (so no blob, even of a damaged index, runs across a cut). One part (the whole pack) if `plan` has one piece.
 * `hashed`: the pack's bytes are known to hash to its id (see `PackToRead.hashed`), so the lead part does not hash.
 */
export function planPackParts(size: number, blobs: readonly IndexBlob[], plan: PackReadPlan, n: number, hashed = false): PlannedPackPart[] {
  const { tailStart, pieces } = plan
  const whole = (): PlannedPackPart[] => [{ part: { start: 0, end: tailStart, blobsTo: Infinity, lead: true }, plan, blobs: [...blobs], bytes: size, share: 1 }]
  if (n < 2 || pieces.length < 2) return whole()
  // the work of each piece's blobs (each byte opened, every plaintext byte decompressed and hashed: see `packWork`)
  const work = new Array<number>(pieces.length).fill(0)
  let p = 0
  for (const b of byOffset(blobs)) {
    while (p + 1 < pieces.length && b.offset >= pieces[p + 1]!.offset) p++
    work[p]! += b.length + 2 * (b.uncompressedLength ?? b.length)
  }
  // hashing every byte, the lead part's, costs about as much per byte as opening a blob (nothing for a pack whose
  // bytes were hashed before: its lead part reads them and checks its blobs and the header)
  const hashing = hashed ? 0 : size
  const total = work.reduce((a, b) => a + b, hashing)
  // the cut before piece j for each of the n - 1 targets, the nearest in work, each after the last
  const cuts: number[] = []
  let before = hashing
  let j = 1
  for (let k = 1; k < n && j < pieces.length; k++) {
    const target = (total * k) / n
    before += work[j - 1]!
    while (j + 1 < pieces.length && Math.abs(before + work[j]! - target) < Math.abs(before - target)) before += work[j++]!
    cuts.push(j++)
  }
  const parts: PlannedPackPart[] = []
  const bounds = [0, ...cuts, pieces.length]
  for (let k = 0; k + 1 < bounds.length; k++) {
    const from = bounds[k]!
    const to = bounds[k + 1]!
    const lead = k === 0
    const last = to === pieces.length
    const start = pieces[from]!.offset
    const end = last ? tailStart : pieces[to]!.offset
    const mine = work.slice(from, to).reduce((a, b) => a + b, lead ? hashing : 0)
    const blobsTo = last ? Infinity : pieces[to]!.offset
    parts.push({
      part: { start, end: lead ? tailStart : end, blobsTo, lead },
      plan: { tailStart, pieces: lead ? pieces : pieces.slice(from, to) },
      blobs: lead ? [...blobs] : blobs.filter((b) => b.offset >= start && b.offset < blobsTo),
      bytes: (lead ? pieces[to]!.offset : end - start) + (last ? size - tailStart : 0),
      share: total > 0 ? mine / total : 1 / bounds.length,
    })
  }
  // (the lead part's bytes end at the first cut; the last part's include the tail)
  return parts
}
