import type { BigIntStats } from 'node:fs'
import { RusticError } from '../error/RusticError.js'
import { goModeFromUnix, nodeTypeFromUnixMode } from '../repofile/fileMode.js'
import { localGoTimeFormatter } from '../repofile/goTime.js'
import { isValidUtf8, utf8Lossy } from '../repofile/goUtf8.js'
import type { ExtendedAttribute, Node } from '../repofile/Node.js'
import { keepVerbatim } from '../repofile/nodeVerbatim.js'

/** What {@link nodeFromStats} cannot read from `lstat`: the symlink target, owner names and xattrs. */
export interface NodeExtras {
  /** The symlink target (`readlink`), as a string or the raw bytes. */
  linktarget?: string | Uint8Array
  /** The owner's user name (see `UserNames`). */
  user?: string
  /** The owner's group name (see `UserNames`). */
  group?: string
  /** Extended attributes (ignored for symlinks, as restic does). */
  xattrs?: ExtendedAttribute[]
  /**
   * Keep the real access time. By default the node's atime is its mtime, as `restic backup` stores it
   * unless run with `--with-atime` (so that reading files does not change their trees).
   */
  withAtime?: boolean
}

const MAX_SAFE_SIZE = BigInt(Number.MAX_SAFE_INTEGER)

/** Keeps a leading U+FEFF (a file name may start with one; the default decoder drops it). */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** A string and, when it is not valid UTF-8, its exact bytes. */
function nameAndRaw(v: string | Uint8Array): [string, Uint8Array | undefined] {
  if (typeof v === 'string') return [v, undefined]
  return isValidUtf8(v) ? [decoder.decode(v), undefined] : [utf8Lossy(v), v]
}

/**
 * The node restic 0.14 makes for a file from its `lstat` (with `{ bigint: true }`): type and Go mode from
 * `st_mode`; mtime/ctime (and atime if `withAtime`, else atime = mtime as `restic backup` stores it)
 * with full nanosecond precision in this process's local zone (`TZ`), as restic formats them; uid/gid; inode and device id; size (files); links (files, symlinks and devices,
 * as restic stores them); device (`st_rdev`, for block and character devices); `content` left `[]` for
 * files (the archiver fills it) and `null` otherwise. Throws `InvalidInput` for an unknown file type.
 * @param name - the file name (a `Buffer`/`Uint8Array` keeps names that are not valid UTF-8 exactly).
 */
export function nodeFromStats(
  name: string | Uint8Array,
  st: Pick<BigIntStats, 'mode' | 'mtimeNs' | 'ctimeNs' | 'atimeNs' | 'uid' | 'gid' | 'ino' | 'dev' | 'size' | 'nlink' | 'rdev'>,
  extra: NodeExtras = {},
): Node {
  const unixMode = Number(st.mode)
  const type = nodeTypeFromUnixMode(unixMode)
  const [nodeName, nameRaw] = nameAndRaw(name)
  if (type === undefined) {
    throw new RusticError('InvalidInput', `${JSON.stringify(nodeName)}: unknown file type (mode 0o${unixMode.toString(8)})`)
  }
  const format = localGoTimeFormatter()
  const mtimeNs = st.mtimeNs
  const ctimeNs = st.ctimeNs
  const mtime = format(mtimeNs)
  const node: Node = {
    name: nodeName,
    type,
    mode: goModeFromUnix(unixMode, type),
    mtime,
    atime: mtime,
    // a file written once has ctime = mtime
    ctime: ctimeNs === mtimeNs ? mtime : format(ctimeNs),
    uid: Number(st.uid),
    gid: Number(st.gid),
  }
  if (extra.withAtime) {
    const atimeNs = st.atimeNs
    node.atime = atimeNs === mtimeNs ? mtime : atimeNs === ctimeNs ? node.ctime : format(atimeNs)
  }
  if (nameRaw !== undefined) node.nameRaw = nameRaw
  if (extra.user) node.user = extra.user
  if (extra.group) node.group = extra.group
  // (each member read once: a stats object may make a new bigint at each read)
  const ino = st.ino
  const dev = st.dev
  if (ino) node.inode = ino
  if (dev) node.deviceId = dev
  if (type === 'file') {
    const size = st.size
    if (size) {
      node.size = Number(size)
      // a sparse file beyond 2^53 bytes: the tree still gets the exact size
      if (size > MAX_SAFE_SIZE) keepVerbatim(node, 'size', node.size, undefined, size.toString())
    }
  }
  if (type === 'file' || type === 'symlink' || type === 'dev' || type === 'chardev') {
    const nlink = st.nlink
    if (nlink) node.links = Number(nlink)
  }
  if (type === 'symlink' && extra.linktarget !== undefined) {
    const [target, raw] = nameAndRaw(extra.linktarget)
    if (target !== '') node.linktarget = target
    if (raw !== undefined) node.linktargetRaw = raw
  }
  if (type !== 'symlink' && extra.xattrs !== undefined && extra.xattrs.length > 0) node.extendedAttributes = extra.xattrs
  if (type === 'dev' || type === 'chardev') {
    const rdev = st.rdev
    if (rdev) node.device = rdev
  }
  node.content = type === 'file' ? [] : null
  return node
}
