import type { FileHandle } from 'node:fs/promises'

/**
 * Streams an open regular file in fresh buffers of at most `chunkSize` bytes, each sized to what is
 * left of `expectedSize` plus one byte, so that a file of the expected size costs one read into one
 * small buffer, and a read shorter than asked for marks the end of the file (reads of regular files
 * are only short at the end). A file that grew is read on to its end. Closes the handle when done
 * or abandoned.
 */
export async function* readFileHandle(fh: FileHandle, expectedSize: number, chunkSize: number): AsyncGenerator<Uint8Array> {
  try {
    let left = expectedSize
    for (;;) {
      const want = Math.min(Math.max(left, 0) + 1, chunkSize)
      const buf = Buffer.allocUnsafeSlow(want)
      const { bytesRead } = await fh.read(buf, 0, want, null)
      if (bytesRead > 0) yield bytesRead === want ? buf : buf.subarray(0, bytesRead)
      if (bytesRead < want) return
      left -= bytesRead
    }
  } finally {
    await fh.close()
  }
}
