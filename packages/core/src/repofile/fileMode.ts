/**
 * Go `os.FileMode` bits, as restic stores them in a node's `mode`. The type bits sit at the top of a
 * uint32 (dir is 1<<31), beyond JS int32 bitwise operators: this module uses arithmetic only.
 */
import type { NodeType } from './NodeType.js'

/** Go `os.ModeDir`. */
export const GO_MODE_DIR = 2 ** 31
/** Go `os.ModeAppend`. */
export const GO_MODE_APPEND = 2 ** 30
/** Go `os.ModeExclusive`. */
export const GO_MODE_EXCLUSIVE = 2 ** 29
/** Go `os.ModeTemporary`. */
export const GO_MODE_TEMPORARY = 2 ** 28
/** Go `os.ModeSymlink`. */
export const GO_MODE_SYMLINK = 2 ** 27
/** Go `os.ModeDevice`. */
export const GO_MODE_DEVICE = 2 ** 26
/** Go `os.ModeNamedPipe`. */
export const GO_MODE_NAMED_PIPE = 2 ** 25
/** Go `os.ModeSocket`. */
export const GO_MODE_SOCKET = 2 ** 24
/** Go `os.ModeSetuid`. */
export const GO_MODE_SETUID = 2 ** 23
/** Go `os.ModeSetgid`. */
export const GO_MODE_SETGID = 2 ** 22
/** Go `os.ModeCharDevice`. */
export const GO_MODE_CHAR_DEVICE = 2 ** 21
/** Go `os.ModeSticky`. */
export const GO_MODE_STICKY = 2 ** 20
/** Go `os.ModeIrregular`. */
export const GO_MODE_IRREGULAR = 2 ** 19

/** The Go type bits restic's mode carries for each node type. */
const TYPE_BITS: Record<NodeType, number> = {
  file: 0,
  dir: GO_MODE_DIR,
  symlink: GO_MODE_SYMLINK,
  dev: GO_MODE_DEVICE,
  chardev: GO_MODE_DEVICE + GO_MODE_CHAR_DEVICE,
  fifo: GO_MODE_NAMED_PIPE,
  socket: GO_MODE_SOCKET,
}

/** Unix `S_IFMT` file types (the high bits of `st_mode`). */
const S_IFMT = 0o170000

/**
 * The node type of a Unix `st_mode`, or `undefined` for an unknown file type.
 */
export function nodeTypeFromUnixMode(unixMode: number): NodeType | undefined {
  switch (unixMode & S_IFMT) {
    case 0o100000:
      return 'file'
    case 0o040000:
      return 'dir'
    case 0o120000:
      return 'symlink'
    case 0o060000:
      return 'dev'
    case 0o020000:
      return 'chardev'
    case 0o010000:
      return 'fifo'
    case 0o140000:
      return 'socket'
    default:
      return undefined
  }
}

/**
 * The Go `FileMode` restic stores for a file with Unix `st_mode` `unixMode` and node type `type`:
 * permission bits, setuid (1<<23), setgid (1<<22), sticky (1<<20) and the type bits (dir 1<<31,
 * symlink 1<<27, device 1<<26, plus chardev 1<<21, pipe 1<<25, socket 1<<24).
 */
export function goModeFromUnix(unixMode: number, type: NodeType): number {
  let mode = unixMode & 0o777
  if (unixMode & 0o4000) mode += GO_MODE_SETUID
  if (unixMode & 0o2000) mode += GO_MODE_SETGID
  if (unixMode & 0o1000) mode += GO_MODE_STICKY
  return mode + TYPE_BITS[type]
}

/** The permission bits plus setuid/setgid/sticky of a Go `FileMode`, as Unix bits (0o4000 etc.) for `chmod`. */
export function unixPermFromGoMode(goMode: number): number {
  // goMode < 2^32: the low 12 bits are safe with `%`, the flag bits are tested by division.
  let perm = goMode % 512
  const bit = (b: number): boolean => Math.floor(goMode / b) % 2 === 1
  if (bit(GO_MODE_SETUID)) perm |= 0o4000
  if (bit(GO_MODE_SETGID)) perm |= 0o2000
  if (bit(GO_MODE_STICKY)) perm |= 0o1000
  return perm
}
