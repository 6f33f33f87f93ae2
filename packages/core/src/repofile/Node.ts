/**
 * A node of a restic tree (a file, directory, symlink, ...). Its JSON form is in `Tree.ts`.
 */
import type { Id } from '../id/Id.js'
import type { RawJson } from './goJson.js'
import { utf8Bytes } from './goUtf8.js'
import type { NodeType } from './NodeType.js'

/** An extended attribute (xattr) of a node. */
export interface ExtendedAttribute {
  /** The attribute name, e.g. `user.comment`. */
  name: string
  /** The raw value (stored base64-encoded). */
  value: Uint8Array
}

/**
 * A file, directory or other item in a restic tree. Field names follow restic's JSON (camelCased);
 * omitted optional fields are zero/empty, as restic omits them.
 */
export interface Node {
  /**
   * The decoded file name (Go `strconv.Unquote` of the stored string). If the raw name is not valid
   * UTF-8, {@link Node.nameRaw} holds the exact bytes and this is a lossy display form.
   */
  name: string
  /** The exact name bytes when they are not valid UTF-8. */
  nameRaw?: Uint8Array
  /** What kind of item this is. */
  type: NodeType
  /** Go `os.FileMode`: permission bits plus Go's type and setuid/setgid/sticky bits (see `fileMode`). Exceeds int32. */
  mode?: number
  /** Modification time, RFC 3339 as restic stores it (kept verbatim). */
  mtime: string
  /** Access time, RFC 3339 as restic stores it (kept verbatim). */
  atime: string
  /** Status change time, RFC 3339 as restic stores it (kept verbatim). */
  ctime: string
  /** Owner user id. */
  uid: number
  /** Owner group id. */
  gid: number
  /** Owner user name. */
  user?: string
  /** Owner group name. */
  group?: string
  /** Inode number (`st_ino`). */
  inode?: bigint
  /** Id of the device holding the file (`st_dev`). */
  deviceId?: bigint
  /** File size in bytes (files only). Above 2^53 (huge sparse files) the number is rounded; trees keep the exact value. */
  size?: number
  /** Number of hard links (`st_nlink`; restic stores it for files, symlinks and devices). */
  links?: number
  /** Symlink target (lossy display form if {@link Node.linktargetRaw} is set). */
  linktarget?: string
  /** The exact symlink target bytes when they are not valid UTF-8 (restic 0.16+ `linktarget_raw`). */
  linktargetRaw?: Uint8Array
  /** Extended attributes. */
  extendedAttributes?: ExtendedAttribute[]
  /** Device number (`st_rdev`) of block and character devices. */
  device?: bigint
  /** Data blob ids of a file's content, in order (`[]` for an empty file); `null` for other types. */
  content?: Id[] | null
  /** Id of a directory's tree. */
  subtree?: Id
  /** An error met while reading the item during backup. */
  error?: string
  /** Members this library does not know (e.g. restic 0.17 `generic_attributes`), kept verbatim. */
  extra?: Record<string, RawJson>
}

/** Go's zero `time.Time` as JSON text: what restic writes for a node time that was never set. */
export const ZERO_GO_TIME = '0001-01-01T00:00:00Z'

/** The raw name bytes of a node: {@link Node.nameRaw}, else the UTF-8 of {@link Node.name}. */
export function nodeNameBytes(node: Node): Uint8Array {
  return node.nameRaw ?? utf8Bytes(node.name)
}

/** Orders raw names as restic sorts tree nodes (bytewise, as Go compares strings). */
export function compareNames(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

/** The symlink target bytes of a node (empty if none). */
export function nodeLinktargetBytes(node: Node): Uint8Array {
  return node.linktargetRaw ?? utf8Bytes(node.linktarget ?? '')
}
