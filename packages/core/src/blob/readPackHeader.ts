import type { DecryptBackend } from '../backend/DecryptBackend.js'
import type { Key } from '../crypto/Key.js'
import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import {
  PACK_HEADER_LENGTH_SIZE,
  PACK_TAIL_EAGER_READ,
  packHeaderLength,
  packSizeFromBlobs,
  parsePackHeader,
  type PackBlob,
} from '../repofile/index.js'

/** Reads `length` bytes of a pack from byte `offset`. */
export type PackRangeReader = (offset: number, length: number) => Promise<Uint8Array>

/**
 * Reads and decrypts a pack's header from the backend: fetches the pack's tail (as much as typical
 * headers need, like restic), and reads the rest of the header if that was short.
 * Checks that the header's entries account for the whole pack (`packSize`).
 * @throws RusticError `Repository`/`DecodeError` naming the pack for an invalid or inconsistent header,
 *   `Cryptography`/`MacMismatch` if it does not decrypt.
 */
export async function readPackHeader(dbe: DecryptBackend, packId: Id, packSize: number, signal?: AbortSignal): Promise<PackBlob[]> {
  const options = { signal }
  return readPackHeaderWith((offset, length) => dbe.backend.readPartial('pack', packId, false, offset, length, options), dbe.key, packId, packSize)
}

/**
 * {@link readPackHeader} with the pack's bytes from `read` (a pack file a worker reads itself, say) and `key`.
 * What `read` throws is thrown as it is.
 */
export async function readPackHeaderWith(read: PackRangeReader, key: Key, packId: Id, packSize: number): Promise<PackBlob[]> {
  const what = `pack ${packId}`
  const tailSize = Math.min(packSize, PACK_TAIL_EAGER_READ)
  const tail = await read(packSize - tailSize, tailSize)
  const headerLength = packHeaderLength(tail, packSize, what)
  let sealed: Uint8Array
  if (headerLength + PACK_HEADER_LENGTH_SIZE <= tail.length) {
    const end = tail.length - PACK_HEADER_LENGTH_SIZE
    sealed = tail.subarray(end - headerLength, end)
  } else {
    sealed = await read(packSize - PACK_HEADER_LENGTH_SIZE - headerLength, headerLength)
  }
  const blobs = parsePackHeader(key.decrypt(sealed, `header of ${what}`), what)
  const computed = packSizeFromBlobs(blobs)
  if (computed !== packSize) {
    throw new RusticError(
      'Repository',
      `the header of ${what} does not match the pack: its entries describe ${computed} bytes, the pack has ${packSize}`,
      { code: 'DecodeError' },
    )
  }
  return blobs
}
