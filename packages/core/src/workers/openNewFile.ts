import { constants, openSync } from 'node:fs'
import type { FileMetadata } from './restore.protocol.js'

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

/**
 * Opens a file restore creates, for writing (never following a symlink). Where `meta.createMode` allows, the
 * file is made with its final mode by `open` itself (`O_EXCL`: only a file this call creates gets it), so that
 * `setFdMetadata` need not `fchmod` it (`modeSet`); else, and when something is there already (truncated then,
 * as before), it is opened with 0600 and its mode is set after its writes.
 */
export function openNewFile(path: string | Buffer, meta: FileMetadata | undefined): { fd: number; modeSet: boolean } {
  if (meta?.createMode === true) {
    try {
      return { fd: openSync(path, CREATE_NEW, meta.mode), modeSet: true }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
  }
  return { fd: openSync(path, CREATE, 0o600), modeSet: false }
}
