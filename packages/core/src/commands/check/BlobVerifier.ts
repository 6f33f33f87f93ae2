import { createHash } from 'node:crypto'
import { decompress, nativeZstdBuffers, type ZstdStreamBuffers } from '../../compression/Zstd.js'
import type { Key } from '../../crypto/Key.js'
import { shortId } from '../../id/Id.js'
import type { IndexBlob } from '../../repofile/IndexFile.js'
import { freeBuffer } from '../../workers/freeBuffer.js'

/** zstd's output goes through one buffer of this size (zstd's own recommended streaming output size). */
const ZSTD_OUT = 128 << 10

/**
 * Checks sealed blobs as `check --read-data` does — MAC, decryption, decompression to the indexed length and
 * the SHA-256 of the plaintext against the blob's id — without ever holding a blob's plaintext: the cipher
 * hands it out in pieces (each freed once used), zstd decompresses them as a stream through one reused
 * buffer, and the hash takes what comes out. So nothing but zstd's window (at most the blob's size) is
 * held, and no garbage piles up. Without zstd-napi, the plaintext of a compressed blob is decompressed whole (by the
 * zstd provider in use: Node's own, the prebuilt package or the pure-JS decoder).
 */
export class BlobVerifier {
  private out: Uint8Array | undefined

  /** @param zstd - zstd-napi's streaming zstd (the default where it loads); `null` decompresses each blob whole (with the zstd provider in use). */
  constructor(
    private readonly key: Key,
    private readonly zstd: ZstdStreamBuffers | null = nativeZstdBuffers() ?? null,
  ) {}

  /** Why the sealed blob `sealed` (indexed as `b`) is damaged, or `undefined` if it is sound. */
  problem(sealed: Uint8Array, b: IndexBlob): string | undefined {
    const what = `blob ${shortId(b.id)}`
    const hash = createHash('sha256')
    try {
      const ul = b.uncompressedLength
      if (!ul) {
        this.key.decryptPieces(sealed, what, (piece) => {
          hash.update(piece)
          freeBuffer(piece)
        })
      } else if (this.zstd === null) {
        hash.update(decompress(this.key.decrypt(sealed, what), what, ul))
      } else {
        const failure = this.decompressed(sealed, what, ul, hash)
        if (failure !== undefined) return failure
      }
    } catch (e) {
      return (e as Error).message
    }
    const got = hash.digest('hex')
    return got === b.id ? undefined : `its content hashes to ${got}`
  }

  /** Decrypts and decompresses into `hash`; returns why the blob does not decompress to `ul` bytes, if it does not. */
  private decompressed(sealed: Uint8Array, what: string, ul: number, hash: { update(data: Uint8Array): unknown }): string | undefined {
    const zstd = this.zstd!
    const out = (this.out ??= Buffer.allocUnsafeSlow(ZSTD_OUT))
    const cannot = `cannot decompress ${what} (expected ${ul} bytes)`
    let total = 0
    let hint = 1
    const feed = (piece: Uint8Array): void => {
      let src = piece
      for (;;) {
        let produced: number
        let consumed: number
        try {
          ;[hint, produced, consumed] = zstd.decompressStream(out, src)
        } catch (e) {
          throw new Error(`${cannot}: ${(e as Error).message}`)
        }
        total += produced
        if (total > ul) throw new Error(`${cannot}: it holds more`)
        if (produced > 0) hash.update(out.subarray(0, produced))
        src = src.subarray(consumed)
        // done with this piece once it is all taken and nothing is left to give out (a full buffer may
        // leave some behind, unless the frame is over)
        if (src.length === 0 && (produced < out.length || hint === 0)) break
        if (produced === 0 && consumed === 0) throw new Error(`${cannot}: zstd makes no progress`)
      }
      freeBuffer(piece)
    }
    zstd.resetStream()
    this.key.decryptPieces(sealed, what, feed)
    if (total !== ul) return `cannot decompress ${what}: got ${total} bytes, expected ${ul}`
    if (hint !== 0) return `${cannot}: the data ends inside a zstd frame`
    return undefined
  }
}
