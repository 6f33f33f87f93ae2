import { readdir } from 'node:fs/promises'
import { fsErrorReason } from '../../error/fsErrorReason.js'
import { RusticError, toErrorCode } from '../../error/RusticError.js'
import { utf8Lossy } from '../../repofile/goUtf8.js'
import { binaryBytes } from './goPath.js'

/*
 * Helpers of the local walk, on paths and names as binary strings (one char per byte, see `goPath.ts`).
 */

/** True if every char of `s` is ASCII. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false
  return true
}

/** A binary string as UTF-8 text, invalid bytes replaced (as Go converts). */
export function lossy(bin: string): string {
  return isAscii(bin) ? bin : utf8Lossy(binaryBytes(bin))
}

/** The entry path of `name` in directory `parent` (`/` for the absolute root, `''` for the relative one). */
export function childPath(parent: string, name: string): string {
  if (parent === '') return name
  if (parent === '/') return '/' + name
  return parent + '/' + name
}

/** The absolute path of `name` in directory `dir`. */
export function childAbs(dir: string, name: string): string {
  return dir === '/' ? '/' + name : dir + '/' + name
}

/** An `InputOutput` error: `<what> <path>: <reason>` (Node's message without the path it repeats), with the errno code of `e`. */
export function ioError(what: string, abs: string, e: unknown): RusticError {
  return new RusticError('InputOutput', `${what} ${lossy(abs)}: ${fsErrorReason(e)}`, {
    code: toErrorCode((e as NodeJS.ErrnoException).code, 'InputOutput'),
    cause: e,
  })
}

/** The names in directory `abs`, as binary strings sorted by their bytes. */
export async function readdirBinary(abs: string): Promise<string[]> {
  const names = await readdir(binaryBytes(abs), { encoding: 'buffer' })
  return names.map((n) => n.toString('latin1')).sort()
}
