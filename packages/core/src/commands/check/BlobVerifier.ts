import { createHash, type Hash } from 'node:crypto'
import { decompress, nativeZstdBuffers, type ZstdStreamBuffers } from '../../compression/Zstd.js'
import { CIPHERTEXT_OVERHEAD, type Key } from '../../crypto/Key.js'
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
  /** The blob being opened (see {@link BlobVerifier.decompressed}): kept here, so that no closure is made per blob. */
  private readonly blob = { what: '', ul: 0, total: 0, hint: 1, hash: undefined as Hash | undefined, plain: undefined as Uint8Array | undefined }
  private readonly feed = (piece: Uint8Array): void => this.feedPiece(piece)
  private readonly feedPlain = (piece: Uint8Array): void => {
    const blob = this.blob
    blob.hash!.update(piece)
    if (blob.plain !== undefined) blob.plain.set(piece, blob.total)
    blob.total += piece.length
    freeBuffer(piece)
  }

  /** @param zstd - zstd-napi's streaming zstd (the default where it loads); `null` decompresses each blob whole (with the zstd provider in use). */
  constructor(
    private readonly key: Key,
    private readonly zstd: ZstdStreamBuffers | null = nativeZstdBuffers() ?? null,
  ) {}

  /** Why the sealed blob `sealed` (indexed as `b`) is damaged, or `undefined` if it is sound. */
  problem(sealed: Uint8Array, b: IndexBlob): string | undefined {
    return this.verify(sealed, b, false)
  }

  /**
   * The plaintext of the sealed blob `sealed` (indexed as `b`) if it is sound, else `undefined`: the same checks
   * as {@link BlobVerifier.problem}, by the same code, with the plaintext kept (so a blob this opens is one
   * `problem` finds sound, whatever the zstd decoders in use).
   */
  open(sealed: Uint8Array, b: Pick<IndexBlob, 'id' | 'uncompressedLength'>): Uint8Array | undefined {
    const plain = new Uint8Array(b.uncompressedLength || Math.max(0, sealed.length - CIPHERTEXT_OVERHEAD))
    return this.verify(sealed, b, plain) === undefined ? plain : undefined
  }

  /** {@link BlobVerifier.problem}; with `keep`, the plaintext goes there too (`keep` has room for all of it). */
  private verify(sealed: Uint8Array, b: Pick<IndexBlob, 'id' | 'uncompressedLength'>, keep: Uint8Array | false): string | undefined {
    const what = `blob ${shortId(b.id)}`
    const hash = createHash('sha256')
    const blob = this.blob
    try {
      if (keep) blob.plain = keep
      const ul = b.uncompressedLength
      if (!ul) {
        blob.hash = hash
        blob.total = 0
        this.key.decryptPieces(sealed, what, this.feedPlain)
      } else if (this.zstd === null) {
        const plain = decompress(this.key.decrypt(sealed, what), what, ul)
        hash.update(plain)
        if (keep) keep.set(plain)
      } else {
        const failure = this.decompressed(sealed, what, ul, hash)
        if (failure !== undefined) return failure
      }
    } catch (e) {
      return (e as Error).message
    } finally {
      blob.hash = undefined
      blob.plain = undefined
    }
    const got = hash.digest('hex')
    return got === b.id ? undefined : `its content hashes to ${got}`
  }

  /** Decrypts and decompresses into `hash`; returns why the blob does not decompress to `ul` bytes, if it does not. */
  private decompressed(sealed: Uint8Array, what: string, ul: number, hash: Hash): string | undefined {
    const blob = this.blob
    blob.what = what
    blob.ul = ul
    blob.total = 0
    blob.hint = 1
    blob.hash = hash
    this.zstd!.resetStream()
    this.key.decryptPieces(sealed, what, this.feed)
    if (blob.total !== ul) return `cannot decompress ${what}: got ${blob.total} bytes, expected ${ul}`
    if (blob.hint !== 0) return `${cannot(blob)}: the data ends inside a zstd frame`
    return undefined
  }

  /** Decompresses the next decrypted piece of the blob into its hash, then frees the piece. */
  private feedPiece(piece: Uint8Array): void {
    const zstd = this.zstd!
    const blob = this.blob
    const out = (this.out ??= Buffer.allocUnsafeSlow(ZSTD_OUT))
    let src = piece
    for (;;) {
      let produced: number
      let consumed: number
      try {
        ;[blob.hint, produced, consumed] = zstd.decompressStream(out, src)
      } catch (e) {
        throw new Error(`${cannot(blob)}: ${(e as Error).message}`)
      }
      blob.total += produced
      if (blob.total > blob.ul) throw new Error(`${cannot(blob)}: it holds more`)
      if (produced > 0) {
        blob.hash!.update(out.subarray(0, produced))
        if (blob.plain !== undefined) blob.plain.set(out.subarray(0, produced), blob.total - produced)
      }
      src = src.subarray(consumed)
      // done with this piece once it is all taken and nothing is left to give out (a full buffer may
      // leave some behind, unless the frame is over)
      if (src.length === 0 && (produced < out.length || blob.hint === 0)) break
      if (produced === 0 && consumed === 0) throw new Error(`${cannot(blob)}: zstd makes no progress`)
    }
    freeBuffer(piece)
  }
}

/** The start of the messages about a blob that does not decompress (made only for one that does not). */
function cannot(blob: { what: string; ul: number }): string {
  return `cannot decompress ${blob.what} (expected ${blob.ul} bytes)`
}
