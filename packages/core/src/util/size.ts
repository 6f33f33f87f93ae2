import { RusticError } from '../error/RusticError.js'

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }

/** Parses a byte size like restic: `500`, `10k`, `1.5M`, `2G`, `1T` (binary units, case-insensitive, optional `B`/`iB`), up to 2^53 - 1 bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text)
  if (!m) throw new RusticError('InvalidInput', `invalid size "${text}": expected e.g. 500, 10k, 1.5M, 2G`, { code: 'InvalidSize' })
  const bytes = Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!)
  if (!Number.isSafeInteger(bytes)) {
    throw new RusticError('InvalidInput', `invalid size "${text}": more than ${Number.MAX_SAFE_INTEGER} bytes`, { code: 'InvalidSize' })
  }
  return bytes
}
