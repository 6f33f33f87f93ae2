import { goJson, goJsonString, goTimeToDate, RawJson, type Node } from '../repofile/index.js'

/** Go's `os.FileMode.String()` of a node's mode (e.g. `drwxr-xr-x`, `Lrwxrwxrwx`, `-rwsr-xr-x` shows as `urwxr-xr-x`). */
export function goModeString(mode: number): string {
  const letters = 'dalTLDpSugct?'
  let out = ''
  for (let i = 0; i < letters.length; i++) {
    if (Math.floor(mode / 2 ** (31 - i)) % 2 === 1) out += letters[i]
  }
  if (out === '') out = '-'
  const rwx = 'rwxrwxrwx'
  for (let i = 0; i < 9; i++) out += Math.floor(mode / 2 ** (8 - i)) % 2 === 1 ? rwx[i] : '-'
  return out
}

/** {@link goModeString} of the modes seen (a snapshot has few distinct ones). */
const modeStrings = new Map<number, string>()

function cachedModeString(mode: number): string {
  let s = modeStrings.get(mode)
  if (s === undefined) {
    s = goModeString(mode)
    if (modeStrings.size < 4096) modeStrings.set(mode, s)
  }
  return s
}

/**
 * One line of `ls --json` as restic 0.14 prints it for a node at `path` (without the newline): `name`,
 * `type`, `path`, `uid`, `gid`, `size` (files only), `mode` (when not 0), `permissions`, the times and
 * `struct_type`, written member by member (the text {@link goJson} makes of them, ~5x faster: `ls --json`
 * writes one a file).
 */
export function lsNodeJson(node: Node, path: string): string {
  let s = `{"name":${goJsonString(node.name)},"type":${goJsonString(node.type)},"path":${goJsonString(path)}`
  if (node.uid !== undefined) s += `,"uid":${goJson(node.uid)}`
  if (node.gid !== undefined) s += `,"gid":${goJson(node.gid)}`
  if (node.type === 'file') s += `,"size":${String(node.size ?? 0)}`
  if (node.mode) s += `,"mode":${goJson(node.mode)}`
  s += `,"permissions":${goJsonString(cachedModeString(node.mode ?? 0))}`
  if (node.mtime !== undefined) s += `,"mtime":${goJsonString(node.mtime)}`
  if (node.atime !== undefined) s += `,"atime":${goJsonString(node.atime)}`
  if (node.ctime !== undefined) s += `,"ctime":${goJsonString(node.ctime)}`
  return s + ',"struct_type":"node"}'
}

/**
 * A node in a `find --json` match as restic 0.14 prints it: `path` and `permissions`, then the node's
 * stored fields without `name`, `inode`, `extended_attributes`, `device`, `content` and `subtree`.
 */
export function findNodeJson(node: Node, path: string): string {
  return goJson({
    path,
    permissions: goModeString(node.mode ?? 0),
    type: node.type,
    mode: node.mode || undefined,
    mtime: node.mtime,
    atime: node.atime,
    ctime: node.ctime,
    uid: node.uid,
    gid: node.gid,
    user: node.user || undefined,
    group: node.group || undefined,
    device_id: node.deviceId ? new RawJson(String(node.deviceId)) : undefined,
    size: node.size ? new RawJson(String(node.size)) : undefined,
    links: node.links || undefined,
    linktarget: node.linktarget || undefined,
    error: node.error || undefined,
  })
}

/** `YYYY-MM-DD hh:mm:ss` in local time, as restic prints times in listings. */
export function localTimeString(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

/** A node as restic's `ls -l` and `find -l` print it: mode, uid, gid, size, mtime, path (and ` -> target`). */
export function longListingLine(node: Node, path: string): string {
  let when = ''
  try {
    when = localTimeString(goTimeToDate(node.mtime))
  } catch {
    when = node.mtime
  }
  const target = node.type === 'symlink' ? ` -> ${node.linktarget ?? ''}` : ''
  const size = String(node.size ?? 0).padStart(6)
  return `${goModeString(node.mode ?? 0)} ${String(node.uid).padStart(5)} ${String(node.gid).padStart(5)} ${size} ${when} ${path}${target}`
}
