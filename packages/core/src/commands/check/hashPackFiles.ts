import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import type { Id } from '../../id/Id.js'

/** Bytes read and hashed in one turn of this thread (~0.3-0.4 ms): the caller's next event is seen within that. */
const SLICE_BYTES = 512 << 10

/**
 * Hashes local pack files (SHA-256, which needs no key) on this thread, one after the other in the order given, in
 * slices of {@link SLICE_BYTES} read into one reused buffer, letting the event loop run between slices, until
 * `signal` aborts or every file is done: work for a thread that would otherwise wait (the CLI's `check --read-data`
 * while the key is derived). Resolves with the packs whose first `size` bytes hashed to their id, each with that
 * size, for `check`'s `hashedPacks`; a pack begun but not finished, one without a local file (`localPath`), one that
 * cannot be read or is shorter than `size`, or whose bytes do not hash to its id is left out (`check` verifies it in
 * full, and reports what is wrong). The files are read synchronously: a read on libuv's pool would take a core from
 * the work the caller waits for.
 * @param packs - the packs (ids and listed sizes).
 * @param localPath - a pack's local file (see `ReadBackend.localPath`).
 */
export async function hashPackFiles(
  packs: Iterable<readonly [Id, number]>,
  localPath: (id: Id) => Promise<string | undefined>,
  signal: AbortSignal,
): Promise<Map<Id, number>> {
  const hashed = new Map<Id, number>()
  const buffer = Buffer.allocUnsafeSlow(SLICE_BYTES)
  for (const [id, size] of packs) {
    if (signal.aborted) break
    let fd: number
    try {
      const path = await localPath(id)
      if (path === undefined || signal.aborted) continue
      fd = openSync(path, 'r')
    } catch {
      continue
    }
    try {
      const hash = createHash('sha256')
      let at = 0
      while (at < size && !signal.aborted) {
        const n = readSync(fd, buffer, 0, Math.min(SLICE_BYTES, size - at), at)
        if (n === 0) break
        hash.update(n === SLICE_BYTES ? buffer : buffer.subarray(0, n))
        at += n
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
      if (at === size && hash.digest('hex') === id) hashed.set(id, size)
    } catch {
      // unreadable: check reads it as usual, and reports what is wrong
    } finally {
      closeSync(fd)
    }
  }
  return hashed
}
