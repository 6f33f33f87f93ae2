import { constants, openSync } from 'node:fs'
import type { FileMetadata } from './restore.protocol.js'

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

/**
 * Opens a file restore creates, for writing (never following a symlink). Where `meta.createMode` or
 * `meta.createOwner` allows, the file is created by this call (`O_EXCL`: `created`), with its final mode where
 * `createMode`, so that `setFdMetadata` need not `fchmod` or `fchown` it; else, and when something is there
 * already (truncated then, as before), it is opened with 0600 and gets its owner and mode after its writes.
 */
export function openNewFile(path: string | Buffer, meta: FileMetadata | undefined): { fd: number; created: boolean } {
  if (meta?.createMode === true || meta?.createOwner === true) {
    try {
      return { fd: openSync(path, CREATE_NEW, meta.createMode === true ? meta.mode : 0o600), created: true }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
  }
  return { fd: openSync(path, CREATE, 0o600), created: false }
}
