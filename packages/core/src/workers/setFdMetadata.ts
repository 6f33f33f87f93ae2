import { fchmodSync, fchownSync } from 'node:fs'
import { setFdTimes } from '../util/nativeTimes.js'
import type { FileMetadata } from './restore.protocol.js'

/**
 * Sets a freshly written file's owner (when given), mode and times through its open descriptor: no path
 * lookups. `modeSet`: the file was created with its mode (`openNewFile`), which no `fchown` changes here (it has
 * no setuid/setgid bit to clear), so no `fchmod`. Best effort: returns false if a call fails (the caller then
 * sets them by path, and reports what fails).
 */
export function setFdMetadata(fd: number, meta: FileMetadata, modeSet = false): boolean {
  try {
    if (meta.uid !== undefined && meta.gid !== undefined) fchownSync(fd, meta.uid, meta.gid)
    if (!modeSet) fchmodSync(fd, meta.mode)
    setFdTimes(fd, meta.atimeNs, meta.mtimeNs)
    return true
  } catch {
    return false
  }
}
