import { RusticError } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import { parseSize } from '../../util/size.js'

/** Which packs `check` reads: all, a fixed group of `m`, a random share of the packs, or a size. */
export type ReadDataSubset =
  | { kind: 'all' }
  | { kind: 'group'; n: number; m: number }
  | { kind: 'percent'; percent: number }
  | { kind: 'size'; bytes: number }

/** Most groups `n/m` allows: groups are picked by the first byte of a pack id (as restic). */
export const MAX_READ_DATA_GROUPS = 256

function invalid(text: string, why: string): RusticError {
  return new RusticError('InvalidInput', `invalid check options: readDataSubset "${text}": ${why}`, { code: 'InvalidOptions' })
}

/**
 * Parses restic's `--read-data-subset` values: `n/m` (1 ≤ n ≤ m ≤ 256), `P%` (0 < P ≤ 100, decimals
 * allowed) or a size (`500`, `10k`, `2.5G`; binary units).
 * @throws RusticError `InvalidOptions` naming the value.
 */
export function parseReadDataSubset(text: string): ReadDataSubset {
  const s = text.trim()
  const group = /^(\d+)\/(\d+)$/.exec(s)
  if (group) {
    const n = Number(group[1])
    const m = Number(group[2])
    if (n === 0 || m === 0 || n > m) throw invalid(text, 'n/m values must be positive integers with n <= m, e.g. 1/2')
    if (m > MAX_READ_DATA_GROUPS) throw invalid(text, `m must be at most ${MAX_READ_DATA_GROUPS}`)
    return { kind: 'group', n, m }
  }
  if (s.endsWith('%')) {
    const p = /^\d+(?:\.\d+)?$/.test(s.slice(0, -1)) ? Number(s.slice(0, -1)) : NaN
    if (!(p > 0 && p <= 100)) throw invalid(text, 'a percentage must be above 0% and at most 100%')
    return { kind: 'percent', percent: p }
  }
  let bytes: number
  try {
    bytes = parseSize(s)
  } catch {
    throw invalid(text, "expected 'n/m', 'P%' or a size like 500M")
  }
  if (bytes <= 0) throw invalid(text, 'a size must be above 0')
  return { kind: 'size', bytes }
}

/**
 * The packs to read for a subset, as restic 0.14 picks them: group `n/m` = the packs whose id's first
 * byte modulo m is n-1 (so `1/m` … `m/m` cover every pack once); `P%` = that share of the packs by
 * count (at least one), at random; a size = the same share of the packs as the size is of their total.
 * @param random - a source of numbers in [0, 1) (`Math.random` by default).
 */
export function selectPacks<T extends { id: Id; size: number }>(
  packs: readonly T[],
  subset: ReadDataSubset,
  random: () => number = Math.random,
): T[] {
  switch (subset.kind) {
    case 'all':
      return [...packs]
    case 'group':
      return packs.filter((p) => parseInt(p.id.slice(0, 2), 16) % subset.m === subset.n - 1)
    case 'percent':
      return randomShare(packs, subset.percent, random)
    case 'size': {
      const total = packs.reduce((sum, p) => sum + p.size, 0)
      if (total === 0) return []
      return randomShare(packs, (Math.min(subset.bytes, total) / total) * 100, random)
    }
  }
}

function randomShare<T>(packs: readonly T[], percent: number, random: () => number): T[] {
  let count = Math.floor(packs.length * (percent / 100))
  if (packs.length > 0 && count < 1) count = 1
  const pool = [...packs]
  // partial Fisher-Yates: the first `count` places get a uniform random choice
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i))
    const t = pool[i]!
    pool[i] = pool[j]!
    pool[j] = t
  }
  return pool.slice(0, count)
}
