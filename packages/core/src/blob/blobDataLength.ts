import { CIPHERTEXT_OVERHEAD } from '../crypto/Key.js'

/**
 * The length of a blob's data (its plaintext, decompressed) from its index entry: the uncompressed length of a
 * compressed blob, else the stored length less the encryption's overhead.
 */
export function blobDataLength(b: { readonly length: number; readonly uncompressedLength?: number | undefined }): number {
  return b.uncompressedLength ?? b.length - CIPHERTEXT_OVERHEAD
}
