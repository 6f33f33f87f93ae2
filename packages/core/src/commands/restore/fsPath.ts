import { RusticError } from '../../error/RusticError.js'
import { nodeNameBytes, type Node } from '../../repofile/index.js'

/** A filesystem path as Node's `fs` takes it: a string, or the raw bytes when a name is not valid UTF-8. */
export type FsPath = string | Buffer

const SLASH = 0x2f
const NUL = 0x00
const DOT = 0x2e

/**
 * Throws `UnsafeName` (kind `Repository`) if a tree node's name could leave its directory when used as a
 * file name: empty, `.`, `..`, or containing `/` or NUL. Such names never come from restic; a tree
 * holding one is damaged or crafted.
 * @param where - the directory holding the node, for the message (e.g. `/home/me`).
 */
export function checkNodeName(node: Node, where: string): void {
  let bad: boolean
  if (node.nameRaw === undefined) {
    // on the string: its UTF-8 has a '/' or NUL byte exactly where it has that character
    const s = node.name
    bad = s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\0')
  } else {
    const b = node.nameRaw
    bad = b.length === 0 || (b.length === 1 && b[0] === DOT) || (b.length === 2 && b[0] === DOT && b[1] === DOT) || b.includes(SLASH) || b.includes(NUL)
  }
  if (bad) {
    throw new RusticError(
      'Repository',
      `unsafe name ${JSON.stringify(node.name)} in directory ${where || '/'} of the snapshot: names with '/', '..' or NUL are refused (the tree is damaged or crafted)`,
      { code: 'UnsafeName' },
    )
  }
}

/** `dir/name` for a directory path and a node's (checked) name; a Buffer when either part is not valid UTF-8. */
export function joinFsPath(dir: FsPath, node: Node): FsPath {
  if (typeof dir === 'string' && node.nameRaw === undefined) return dir.endsWith('/') ? dir + node.name : `${dir}/${node.name}`
  const d = typeof dir === 'string' ? Buffer.from(dir) : dir
  const sep = d.length > 0 && d[d.length - 1] === SLASH ? [] : [Buffer.from('/')]
  return Buffer.concat([d, ...sep, Buffer.from(nodeNameBytes(node))])
}

/** `dir/name` for a raw directory entry name (from `readdir` with `encoding: 'buffer'`). */
export function joinFsName(dir: FsPath, name: Buffer): FsPath {
  const s = name.toString('utf8')
  if (typeof dir === 'string' && Buffer.from(s).equals(name)) return dir.endsWith('/') ? dir + s : `${dir}/${s}`
  const d = typeof dir === 'string' ? Buffer.from(dir) : dir
  const sep = d.length > 0 && d[d.length - 1] === SLASH ? [] : [Buffer.from('/')]
  return Buffer.concat([d, ...sep, name])
}

/** A path for messages (lossy UTF-8 for raw paths). */
export function displayPath(p: FsPath): string {
  return typeof p === 'string' ? p : p.toString('utf8')
}
