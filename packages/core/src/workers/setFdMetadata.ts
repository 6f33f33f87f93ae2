import { fchmodSync, fchownSync } from 'node:fs'
import { setFdTimes } from '../util/nativeTimes.js'
import type { FileMetadata } from './restore.protocol.js'

/**
 * Sets a freshly written file's owner (when given), mode and times through its open descriptor: no path
 * lookups. `created`: `openNewFile` created the file, so it has its owner where `meta.createOwner` and its mode
 * where `meta.createMode` (which no `fchown` changes here: it has no setuid/setgid bit to clear), and those
 * calls are left out. Best effort: returns false if a call fails (the caller then sets them by path, and
 * reports what fails).
 */
export function setFdMetadata(fd: number, meta: FileMetadata, created = false): boolean {
  try {
    if (meta.uid !== undefined && meta.gid !== undefined && !(created && meta.createOwner === true)) fchownSync(fd, meta.uid, meta.gid)
    if (!(created && meta.createMode === true)) fchmodSync(fd, meta.mode)
    setFdTimes(fd, meta.atimeNs, meta.mtimeNs)
    return true
  } catch {
    return false
  }
}
