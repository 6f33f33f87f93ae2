import { parseGoTime } from '../../repofile/index.js'
import { floorDiv } from '../../util/floorDiv.js'

const US = 1000n


/**
 * Nanoseconds of a node time, or `undefined` when it is unset or cannot be parsed.
 */
export function nodeTimeNs(goTime: string | undefined): bigint | undefined {
  if (!goTime) return undefined
  try {
    return parseGoTime(goTime).unixNs
  } catch {
    return undefined
  }
}

/**
 * The time restore gives a file for a node time, as restic 0.14 sets it: Go's `UnixNano()` of the time,
 * which is exact from 1678 to 2262 and wraps around (64-bit nanoseconds) outside, e.g. Go's zero time
 * (year 1) becomes 1754-08-30T22:43:41.128654848Z. The file system then clamps what it cannot store
 * (ext4: 1901-12-13 to 2446). `undefined` when the node has no (readable) time.
 */
export function restoreTimeNs(goTime: string | undefined): bigint | undefined {
  const ns = nodeTimeNs(goTime)
  return ns === undefined ? undefined : BigInt.asIntN(64, ns)
}

/**
 * True if a file time read with `lstat(…, { bigint: true })` equals a snapshot time at the precision
 * restore can set: exactly, or to the microsecond (where times are set with Node's `utimes`, which drops
 * sub-microsecond digits).
 */
export function sameTime(fileNs: bigint, snapNs: bigint): boolean {
  return fileNs === snapNs || floorDiv(fileNs, US) === floorDiv(snapNs, US)
}
