import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK
const probe = Buffer.alloc(1)

/**
 * True if the local file at `path` is, when opened now, a regular file that holds no byte: opened without
 * following a symlink (and without blocking on a fifo put in its place), `fstat`ed and read. A file listed
 * with size 0 is checked here, on the calling thread, instead of being handed to a worker to be read: this
 * costs a few system calls. False when in doubt (it cannot be opened, is no regular file, or has content,
 * as `/proc` files that are listed with size 0 do): the file is then read the usual way, which reports
 * any error.
 */
export function isStillEmpty(path: string | Uint8Array): boolean {
  let fd: number
  try {
    fd = openSync(typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength), OPEN_FLAGS)
  } catch {
    return false
  }
  try {
    const st = fstatSync(fd)
    return st.isFile() && st.size === 0 && readSync(fd, probe, 0, 1, null) === 0
  } catch {
    return false
  } finally {
    try {
      closeSync(fd)
    } catch {
      // nothing was written through it: a failed close loses nothing
    }
  }
}
