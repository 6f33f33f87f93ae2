import { fchmodSync, fchownSync } from 'node:fs'
import { setFdTimes } from '../util/nativeTimes.js'
import type { FileMetadata } from './restore.protocol.js'

/**
 * Sets a freshly written file's owner (when given), mode and times through its open descriptor: no path
 * lookups. Best effort: returns false if a call fails (the caller then sets them by path, and reports what fails).
 */
export function setFdMetadata(fd: number, meta: FileMetadata): boolean {
  try {
    if (meta.uid !== undefined && meta.gid !== undefined) fchownSync(fd, meta.uid, meta.gid)
    fchmodSync(fd, meta.mode)
    setFdTimes(fd, meta.atimeNs, meta.mtimeNs)
    return true
  } catch {
    return false
  }
}
