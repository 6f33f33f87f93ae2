import { compress, decompress, zstdCompressorUnavailable } from '../compression/index.js'
import { CIPHERTEXT_OVERHEAD, IV_SIZE, type Key } from '../crypto/index.js'
import { RusticError } from '../error/RusticError.js'
import { hashId, type Id } from '../id/Id.js'
import type { WarningHandler } from '../progress/Progress.js'
import { decodeUnpacked, encodeUnpackedAt } from '../repofile/index.js'
import type { CallOptions, WriteBackend } from './Backend.js'
import type { FileType } from './FileType.js'
import { freeBuffer } from '../workers/freeBuffer.js'

/** File types whose plaintext carries the v2 compression marker byte. */
const UNPACKED: ReadonlySet<FileType> = new Set(['snapshot', 'index', 'lock'])

/** Human-readable name of a repository file, for messages. */
export function fileName(type: FileType, id: Id): string {
  return type === 'config' ? 'config' : `${type} ${id}`
}

/** Options of {@link DecryptBackend}. */
export interface DecryptBackendOptions {
  /**
   * The compression level came from compression `auto`: where no zstd compressor loads, write
   * uncompressed and warn once instead of failing.
   */
  compressionAuto?: boolean
  /** Receives that warning (once per handler); without one it goes to `process.emitWarning`, once. */
  onWarning?: WarningHandler
}

/** Handlers already told that data is written uncompressed. */
const warned = new WeakSet<WarningHandler>()
let warnedProcess = false

/** Warns, once per handler, that data is written uncompressed because no zstd compressor loads. */
function warnUncompressed(onWarning: WarningHandler | undefined, why: string): void {
  const message = `writing without compression: ${why}`
  if (onWarning) {
    if (warned.has(onWarning)) return
    warned.add(onWarning)
    onWarning(message)
  } else if (!warnedProcess) {
    warnedProcess = true
    process.emitWarning(message, { code: 'RUSTIC_TS_NO_ZSTD' })
  }
}

/**
 * The encryption layer over a backend (rustic_core's `DecryptBackend`): verifies file ids,
 * checks MACs, decrypts, and handles repository-version-2 compression of unpacked files.
 */
export class DecryptBackend {
  /** True if {@link DecryptBackend.compressionLevel} came from compression `auto` (see {@link DecryptBackendOptions}). */
  readonly compressionAuto: boolean
  private readonly onWarning: WarningHandler | undefined

  constructor(
    /** The backend below (already decorated: cache, hot/cold, retry...). */
    readonly backend: WriteBackend,
    /** The repository's master key. */
    readonly key: Key,
    /** Repository version (1: no compression; 2: zstd). */
    readonly version: 1 | 2,
    /** zstd level for writes in v2, or undefined to store uncompressed (no default: `undefined` must mean off). */
    readonly compressionLevel: number | undefined,
    options: DecryptBackendOptions = {},
  ) {
    this.compressionAuto = options.compressionAuto ?? false
    this.onWarning = options.onWarning
  }

  /**
   * The zstd level data is written with now: {@link DecryptBackend.compressionLevel} in a v2 repository,
   * else undefined. Where no zstd compressor loads, undefined for compression `auto` (with a warning, once).
   * @throws RusticError `Unsupported`/`CompressionUnavailable` where no zstd compressor loads and a level was chosen.
   */
  writeCompressionLevel(): number | undefined {
    const level = this.version === 2 ? this.compressionLevel : undefined
    if (level === undefined) return undefined
    const why = zstdCompressorUnavailable()
    if (why === undefined) return level
    if (!this.compressionAuto) {
      throw new RusticError(
        'Unsupported',
        `cannot write compressed data (zstd level ${level}) to ${this.location()}: ${why}; or set compression to off`,
        { code: 'CompressionUnavailable' },
      )
    }
    warnUncompressed(this.onWarning, why)
    return undefined
  }

  /** The backend's location (no secrets). */
  location(): string {
    return this.backend.location()
  }

  /**
   * Reads a whole file, checks that its content hashes to its id (all but config),
   * checks the MAC, decrypts and, for snapshot/index/lock files, decompresses.
   */
  async readEncryptedFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    return this.openFull(type, id, await this.backend.readFull(type, id, options))
  }

  /** A whole file's plaintext from its stored bytes: id check, decrypt, decompress. */
  private openFull(type: FileType, id: Id, data: Uint8Array): Uint8Array {
    if (type !== 'config') verifyId(data, type, id)
    const plain = this.key.decrypt(data, fileName(type, id))
    if (!UNPACKED.has(type)) return plain
    const json = decodeUnpacked(plain, fileName(type, id))
    // the decrypted zstd frame (an index file's is ~0.6 MiB at 12,000 blobs) is ours and done with: its memory
    // goes back now, not at the next full collection
    if (json !== plain) freeBuffer(plain)
    return json
  }

  /**
   * Reads and opens one blob of a pack: MAC check, decrypt, decompress when `uncompressedLength` is set.
   * The caller verifies the blob id (see {@link verifyId}). `what` names the blob in errors (default: the file
   * and the offset).
   */
  async readEncryptedPartial(
    type: FileType,
    id: Id,
    cacheable: boolean,
    offset: number,
    length: number,
    uncompressedLength: number | undefined,
    options?: CallOptions,
    what = `${type} ${id} at offset ${offset}`,
  ): Promise<Uint8Array> {
    const data = await this.backend.readPartial(type, id, cacheable, offset, length, options)
    return this.openBlob(data, uncompressedLength, what)
  }

  /** Opens one encrypted blob: MAC check, decrypt, decompress when `uncompressedLength` is set. */
  openBlob(sealed: Uint8Array, uncompressedLength: number | undefined, what: string): Uint8Array {
    const plain = this.key.decrypt(sealed, what)
    return uncompressedLength ? decompress(plain, what, uncompressedLength) : plain
  }

  /** Encrypts (and, for unpacked types in v2, compresses) `plain` and stores it under the hash of the result. */
  async saveFile(type: Exclude<FileType, 'config'>, plain: Uint8Array, options?: CallOptions): Promise<Id> {
    const data = UNPACKED.has(type) ? this.sealUnpacked(plain) : this.key.encrypt(plain)
    const id = hashId(data)
    await this.backend.writeBytes(type, id, type !== 'pack', data, options)
    return id
  }

  /**
   * An unpacked file sealed: in v2 compressed as restic always does (at the default level when compression
   * is off), or plain JSON where no zstd compressor loads (see {@link DecryptBackend.writeCompressionLevel}).
   * In v2 the frame is compressed into the buffer it is sealed in, between the IV's and the MAC's room, and
   * encrypted in place: with the JSON, one buffer of about the compressed size is alive, not three.
   */
  private sealUnpacked(json: Uint8Array): Uint8Array {
    if (this.version === 1 || (zstdCompressorUnavailable() !== undefined && this.writeCompressionLevel() === undefined)) {
      return this.key.encrypt(json)
    }
    const { buf, length } = encodeUnpackedAt(json, this.compressionLevel, IV_SIZE, CIPHERTEXT_OVERHEAD - IV_SIZE)
    const sealed = this.key.encryptInto(buf.subarray(IV_SIZE, IV_SIZE + length), buf, 0)
    return buf.subarray(0, sealed)
  }

  /**
   * Compresses a blob if this repository compresses, then encrypts it. Returns the sealed bytes and the uncompressed length when compressed.
   * @throws RusticError `CompressionUnavailable` as {@link DecryptBackend.writeCompressionLevel} does.
   */
  sealBlob(plain: Uint8Array): { sealed: Uint8Array; uncompressedLength?: number } {
    const level = this.writeCompressionLevel()
    if (level !== undefined) {
      return { sealed: this.key.encrypt(compress(plain, level)), uncompressedLength: plain.length }
    }
    return { sealed: this.key.encrypt(plain) }
  }

  /**
   * Reads, decrypts and parses every file of a type (in the order of `ids`, else of the listing): up to
   * `concurrency` files are read ahead, and each is opened and parsed only when the consumer takes it, so
   * that at most one parsed file is held here (index files of 50,000 blobs parsed all at once took ~10 MB of
   * heap each). Files that fail are reported through `onError` (when given) instead of failing the whole stream.
   */
  async *streamAll<T>(
    type: FileType,
    parse: (plain: Uint8Array, id: Id) => T,
    options: CallOptions & { concurrency?: number; onError?: (id: Id, err: unknown) => void; ids?: Id[] } = {},
  ): AsyncGenerator<T> {
    const ids = options.ids ?? (await this.backend.list(type, options))
    const ahead = options.concurrency ?? 8
    const reads: Array<Promise<{ ok: true; data: Uint8Array } | { ok: false; error: unknown }> | undefined> = []
    for (let i = 0; i < ids.length; i++) {
      while (reads.length < Math.min(ids.length, i + ahead)) {
        reads.push(this.backend.readFull(type, ids[reads.length]!, options).then(
          (data) => ({ ok: true as const, data }),
          (error: unknown) => ({ ok: false as const, error }),
        ))
      }
      const id = ids[i]!
      const r = await reads[i]!
      reads[i] = undefined
      let value: T
      try {
        if (!r.ok) throw r.error
        value = parse(this.openFull(type, id, r.data), id)
      } catch (error) {
        if (!options.onError) throw error
        options.onError(id, error)
        continue
      }
      yield value
    }
  }
}

/** Throws `IntegrityError` if `data` does not hash to `id`. */
export function verifyId(data: Uint8Array, type: FileType, id: Id): void {
  const actual = hashId(data)
  if (actual !== id) {
    throw new RusticError(
      'Verification',
      `${fileName(type, id)} is corrupted: its content hashes to ${actual}`,
      { code: 'IntegrityError' },
    )
  }
}
