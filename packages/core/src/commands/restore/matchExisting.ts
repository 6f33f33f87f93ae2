import { createHash } from 'node:crypto'
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { FsPath } from './fsPath.js'

/**
 * Which blobs of a file's content are already in place in an existing file: blob `i` (plaintext length
 * `lengths[i]`, at the sum of the previous lengths) matches if those bytes of the file hash to `ids[i]`.
 * Reads the file once, front to back, without following a symlink.
 */
export async function matchExisting(
  path: FsPath,
  ids: readonly Id[],
  lengths: readonly number[],
  fileSize: number,
  signal?: AbortSignal,
): Promise<boolean[]> {
  const out = new Array<boolean>(ids.length).fill(false)
  if (ids.length === 0) return out
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    let buf = Buffer.allocUnsafe(0)
    let pos = 0
    for (let i = 0; i < ids.length; i++) {
      throwIfAborted(signal)
      const len = lengths[i]!
      if (pos + len > fileSize) break
      if (buf.length < len) buf = Buffer.allocUnsafe(Math.max(len, 1 << 20))
      let done = 0
      while (done < len) {
        const { bytesRead } = await fh.read(buf, done, len - done, pos + done)
        if (bytesRead === 0) break
        done += bytesRead
      }
      if (done < len) break
      out[i] = createHash('sha256').update(buf.subarray(0, len)).digest('hex') === ids[i]
      pos += len
    }
  } finally {
    await fh.close()
  }
  return out
}
