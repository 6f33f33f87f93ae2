import { parseGoTime } from '../../repofile/index.js'

const US = 1000n

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

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
 * True if a file time read with `lstat(…, { bigint: true })` equals a snapshot time at the precision
 * restore can set (whole microseconds: Node's `utimes` goes through libuv, which drops sub-microsecond
 * digits). Exact nanosecond equality (a restic-restored file) also matches.
 */
export function sameTime(fileNs: bigint, snapNs: bigint): boolean {
  return fileNs === snapNs || floorDiv(fileNs, US) === floorDiv(snapNs, US)
}

/**
 * The number of seconds to pass to `fs.utimes` so that the file gets the snapshot time truncated to
 * whole microseconds: libuv converts the double to a timespec and drops sub-microsecond digits, so the
 * value is aimed at the middle of the microsecond to survive double rounding.
 */
export function utimesSeconds(ns: bigint): number {
  const us = floorDiv(ns, US)
  const s = floorDiv(us, 1_000_000n)
  const frac = Number(us - s * 1_000_000n) * 1000 + 500 // ns into the second, mid-microsecond
  return Number(s) + frac / 1e9
}
