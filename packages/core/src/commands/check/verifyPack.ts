import type { Key } from '../../crypto/Key.js'
import type { Id } from '../../id/Id.js'
import type { IndexBlob } from '../../repofile/IndexFile.js'
import { BlobVerifier } from './BlobVerifier.js'
import { PackVerifier, type PackVerification } from './PackVerifier.js'
import { planPackReads } from './planPackReads.js'

export type { PackProblem, PackVerification } from './PackVerifier.js'

/**
 * Verifies one downloaded pack against what the index says it holds, without any I/O (see
 * {@link PackVerifier}, which does the same with a pack that comes in pieces): the SHA-256 of the bytes is
 * the pack id; the header decrypts and parses, its length is the one the index implies, and its entries are
 * exactly the index's (type, id, offset, lengths); every indexed blob opens (MAC), decompresses to its
 * indexed length and hashes to its id. `bytes` are only read.
 * @param expected - the index's entries for this pack (any order).
 * @param opener - checks the blobs (one per thread can serve every pack).
 */
export function verifyPack(key: Key, packId: Id, bytes: Uint8Array, expected: readonly IndexBlob[], opener = new BlobVerifier(key)): PackVerification {
  const { tailStart } = planPackReads(bytes.length, expected, Infinity)
  const verifier = new PackVerifier(key, packId, bytes.length, expected, tailStart, bytes.subarray(tailStart), opener)
  verifier.push(bytes.subarray(0, tailStart))
  return verifier.finish()
}
