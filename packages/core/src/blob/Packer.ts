import { z } from 'zod'
import type { DecryptBackend } from '../backend/DecryptBackend.js'
import { CIPHERTEXT_OVERHEAD } from '../crypto/Key.js'
import { RusticError, throwIfAborted } from '../error/RusticError.js'
import { hashId, type Id } from '../id/Id.js'
import type { BlobIndex } from '../index/BlobIndex.js'
import {
  formatLocalGoTime,
  PACK_HEADER_LENGTH_SIZE,
  packHeaderEntrySize,
  serializePackHeader,
  type BlobType,
  type IndexBlob,
  type IndexPack,
} from '../repofile/index.js'
import type { Indexer } from '../index/Indexer.js'
import { MAX_PACK_SIZE, PackSizer, type PackSizeConfig } from './PackSizer.js'
import { PackStream } from './PackStream.js'
import { SealPool, type BlobSink, type SealedBlob, type StoredFile } from './SealPool.js'
import { totalPackSize } from './totalPackSize.js'
import { parseOptions } from '../util/parseOptions.js'
import type { ParentChunks } from '../workers/seal.protocol.js'
import { blobDataLength } from './blobDataLength.js'

/** Maximum number of blobs in one pack (rustic_core packer `MAX_COUNT`). */
export const MAX_BLOBS_PER_PACK = 10_000
/** Blobs smaller than this are sealed on the calling thread even with a seal pool (small ones go to the pool in batches). */
export const DEFAULT_MIN_POOL_BLOB_SIZE = 0
/** A pack that is this old when a blob is added is saved (rustic_core packer `MAX_AGE`: 5 minutes). */
export const MAX_PACK_AGE_MS = 5 * 60 * 1000

/** What a {@link Packer} has added (rustic_core's `PackerStats`). */
export interface PackerStats {
  /** Blobs added (duplicates not counted). */
  blobs: number
  /** Packs saved. */
  packs: number
  /** Uncompressed bytes of the added blobs. */
  dataAdded: number
  /** Stored (compressed and encrypted) bytes of the added blobs, without pack headers. */
  dataAddedPacked: number
}

/**
 * Lets the packers of several writers of one in-memory index (concurrent backups) store each new blob
 * once (see `BlobsInFlight`).
 */
export interface SharedBlobClaims {
  /** True if another writer is storing the blob (this packer then skips it, and the writer waits for it). */
  elsewhere(type: BlobType, id: Id): boolean
  /** This packer stores the blob (it is in no index and no one else stores it). */
  claim(type: BlobType, id: Id): void
}

/** Options of {@link Packer}, with defaults. */
export const PackerOptionsSchema = z.object({
  /**
   * Decides when a pack is full. Default: `PackSizer.forType(config, blobType, totalPackSize(index, blobType))`,
   * i.e. rustic's sizer grown by the index's current pack sizes.
   */
  sizer: z.custom<PackSizer>((v) => v instanceof PackSizer).optional(),
  /** The repository config, for rustic's pack size settings (`datapack_size`, ...) of the default sizer. */
  config: z.custom<PackSizeConfig>((v) => typeof v === 'object' && v !== null).optional(),
  /** Uploads running at once; `add` waits when a full pack finds them all busy (back-pressure). */
  maxPacksInFlight: z.number().int().min(1).default(2),
  /** Aborts: `add` refuses new blobs, uploads are cancelled, `finalize` saves no further pack. */
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal).optional(),
  /** Called after a pack was stored and handed to the indexer. */
  onPackSaved: z.custom<(packId: Id, bytes: number) => void>((v) => typeof v === 'function').optional(),
  /** Maximum blobs in one pack. */
  maxBlobsPerPack: z.number().int().min(1).default(MAX_BLOBS_PER_PACK),
  /** A pack this old is saved when the next blob is added. */
  maxPackAgeMs: z.number().min(0).default(MAX_PACK_AGE_MS),
  /** Opens every sealed blob again and compares it with its plaintext before packing (rustic's `extra_verify`). */
  extraVerify: z.boolean().default(false),
  /**
   * Seal (compress + encrypt) on these worker threads instead of the calling thread. `add` then
   * returns once the blob is handed to a worker; the caller owns (and closes) the pool.
   */
  sealPool: z.custom<SealPool>((v) => v instanceof SealPool).optional(),
  /**
   * With a `sealPool`: smaller blobs are sealed on the calling thread (a worker round trip costs more).
   * Default {@link DEFAULT_MIN_POOL_BLOB_SIZE} (0: every blob goes to the pool; small ones in batches).
   */
  minPoolBlobSize: z.number().int().nonnegative().default(DEFAULT_MIN_POOL_BLOB_SIZE),
  /** With a `sealPool`: blobs being sealed at once before `add` waits. Default 4 per worker. */
  maxSealsInFlight: z.number().int().min(1).optional(),
  /**
   * Write data packs to the backend as they fill where it can (`WriteBackend.openFileWriter`, e.g. the
   * local backend), instead of holding each pack in memory until it is full.
   */
  streamPacks: z.boolean().default(true),
  /** Blobs other writers of the same index are storing: skipped here, and claimed before storing one. */
  sharedBlobs: z.custom<SharedBlobClaims>((v) => typeof v === 'object' && v !== null).optional(),
})

/** Options of {@link Packer}; see {@link PackerOptionsSchema} for defaults. */
export type PackerOptions = z.input<typeof PackerOptionsSchema>

/** The pack being filled. */
interface OpenPack {
  blobs: IndexBlob[]
  /** The pack file being built in memory: sealed blobs from offset 0, room for more and for the header. */
  buf: Buffer
  /** Or the pack being written as it fills. */
  stream?: PackStream
  /** Bytes of this pack counted in the packer's `buffered` (not yet written). */
  held: number
  /** Bytes of sealed blobs so far. */
  size: number
  /** Header size so far (entries only). */
  headerSize: number
  created: number
}

/** Room for the header and an overshoot beyond the target size, before a pack's buffer must grow. */
const PACK_SLACK = 1 << 20

function newPack(): OpenPack {
  return { blobs: [], buf: EMPTY, held: 0, size: 0, headerSize: 0, created: Date.now() }
}
const EMPTY = Buffer.alloc(0)

/**
 * Wakes waiters (promise resolvers) in the order they came; returns the empty list that replaces theirs. Each
 * resumes after this returns, re-checks its condition and, if it must wait again, queues again in the new list
 * (those woken first first, so the order stays).
 */
function wake(waiters: Array<() => void>): Array<() => void> {
  if (waiters.length === 0) return waiters
  for (const f of waiters) f()
  return []
}

/**
 * Makes room for `n` more bytes in a pack's buffer: on first use a spare buffer of a stored pack, else
 * a new one of the target size (its pages are touched only as it fills).
 */
function reserve(pack: OpenPack, n: number, target: number, spare: Buffer[]): void {
  const need = pack.size + n
  if (need <= pack.buf.length) return
  if (pack.size === 0 && spare.length > 0 && spare.at(-1)!.length >= need) {
    pack.buf = spare.pop()!
    return
  }
  const grown = Buffer.allocUnsafeSlow(Math.max(need + PACK_SLACK, pack.buf.length === 0 ? target + PACK_SLACK : 2 * pack.buf.length))
  pack.buf.copy(grown, 0, 0, pack.size)
  pack.buf = grown
}

/**
 * Writes blobs of one type into packs (rustic_core's `Packer`): each blob is sealed on its own
 * (compressed in v2, then encrypted), appended to the current pack, and a pack that reaches the
 * sizer's target size is saved in the background as `blobs || sealed header || u32le(header length)`
 * under the SHA-256 of its bytes. Only once a pack is stored are its blobs handed to the
 * {@link Indexer}. Blobs already in the index, the indexer or this packer are skipped.
 *
 * Safe for concurrent `add` calls. An error of a background upload is thrown by the next `add` or by
 * `finalize`; after an error or an abort no further pack is saved.
 */
export class Packer implements BlobSink {
  private readonly options: z.output<typeof PackerOptionsSchema>
  private readonly sizer: PackSizer
  private current: OpenPack = newPack()
  /** Ids in the current pack or in packs being saved (not yet in the indexer). */
  private readonly pending = new Set<Id>()
  private readonly uploads = new Set<Promise<void>>()
  private readonly adding = new Set<Promise<unknown>>()
  /** Blobs handed to the seal pool, until they are appended to a pack. */
  private readonly sealing = new Set<Promise<void>>()
  /** Adds waiting for fewer blobs being sealed, in the order they came (woken once there is room). */
  private sealWaiters: Array<() => void> = []
  /** Saves waiting for an upload to end, in the order they came. */
  private uploadWaiters: Array<() => void> = []
  private failure: { error: unknown } | undefined
  private finalized = false
  /** Sealed bytes appended and not yet stored; {@link Packer.storeFile} waits while there are too many. */
  private buffered = 0
  private roomWaiters: Array<() => void> = []
  /** Buffers of stored packs, for the next packs. */
  private readonly spare: Buffer[] = []
  /** Data packs are written to the backend as they fill, where it can (`WriteBackend.openFileWriter`), instead of in memory. */
  private readonly streams: boolean
  private readonly counters: PackerStats = { blobs: 0, packs: 0, dataAdded: 0, dataAddedPacked: 0 }

  constructor(
    /** The encryption layer packs are written through. */
    readonly dbe: DecryptBackend,
    /** The type of the blobs of this packer's packs. */
    readonly blobType: BlobType,
    /** Receives each stored pack. */
    readonly indexer: Indexer,
    /** The repository's index, to skip blobs it already has. */
    readonly index: BlobIndex,
    options: PackerOptions = {},
  ) {
    this.options = parseOptions(PackerOptionsSchema, options, 'packer options')
    if (this.options.sealPool && !this.options.sealPool.matches(dbe)) {
      throw new RusticError('InvalidInput', 'the seal pool was started for another repository key or compression level')
    }
    this.streams = blobType === 'data' && this.options.streamPacks && typeof dbe.backend.openFileWriter === 'function'
    this.sizer =
      this.options.sizer ?? PackSizer.forType(this.options.config ?? { version: dbe.version }, blobType, totalPackSize(index, blobType))
  }

  /** A snapshot of what has been added so far. */
  get stats(): PackerStats {
    return { ...this.counters }
  }

  /** True if the blob is pending in this packer (in the pack being filled or in one being saved). */
  has(id: Id): boolean {
    return this.pending.has(id)
  }

  /**
   * Adds a blob unless the index, the indexer or this packer already has it; returns true if added.
   * Seals the blob (compress + encrypt), appends it to the current pack and, when the pack is full,
   * saves it in the background, waiting while `maxPacksInFlight` uploads are busy.
   */
  add(id: Id, plain: Uint8Array): Promise<boolean> {
    return this.track(async () => {
      this.check()
      if (this.known(id)) return false
      this.pending.add(id)
      const pool = this.options.sealPool
      if (pool && plain.length > 0 && plain.length >= this.options.minPoolBlobSize) {
        this.sealInPool(pool, id, plain)
        // one promise per waiting add, woken in order (racing all the seals again at each one's end was quadratic)
        while (this.sealing.size >= this.maxSeals(pool)) await new Promise<void>((resolve) => this.sealWaiters.push(resolve))
        this.throwIfFailed()
        return true
      }
      let sealed: SealedBlob
      try {
        // an empty blob cannot be marked as compressed (uncompressed length 0 means "not compressed")
        sealed = plain.length === 0 ? { sealed: this.dbe.key.encrypt(plain) } : this.dbe.sealBlob(plain)
        if (this.options.extraVerify) this.verify(id, plain, sealed.sealed, sealed.uncompressedLength)
      } catch (e) {
        this.pending.delete(id)
        throw e
      }
      await this.append(id, sealed.sealed, sealed.uncompressedLength, plain.length)
      return true
    })
  }

  /** Hands a blob to the pool; appends it when sealed. Errors are recorded and thrown by the next call. */
  private sealInPool(pool: SealPool, id: Id, plain: Uint8Array): void {
    const length = plain.length
    const verifyCopy = this.options.extraVerify ? Uint8Array.prototype.slice.call(plain) : undefined
    const job = pool
      .seal(plain)
      .then(async (s) => {
        if (verifyCopy) this.verify(id, verifyCopy, s.sealed, s.uncompressedLength)
        this.throwIfFailed()
        await this.append(id, s.sealed, s.uncompressedLength, length)
      })
      .catch((error: unknown) => {
        this.failure ??= { error }
        this.pending.delete(id)
      })
    this.sealing.add(job)
    void job.then(() => {
      this.sealing.delete(job)
      if (this.sealing.size < this.maxSeals(pool)) this.sealWaiters = wake(this.sealWaiters)
    })
  }

  /** Blobs being sealed at once before {@link Packer.add} waits. */
  private maxSeals(pool: SealPool): number {
    return this.options.maxSealsInFlight ?? 4 * pool.size
  }

  /**
   * Adds an already sealed blob (for copy, prune, repair): its stored bytes as found in a pack and its
   * uncompressed length if it is compressed. Skipped (false) like {@link Packer.add} when known.
   */
  addSealed(id: Id, sealed: Uint8Array, uncompressedLength: number | undefined): Promise<boolean> {
    return this.track(async () => {
      this.check()
      if (sealed.length < CIPHERTEXT_OVERHEAD) {
        throw new RusticError('InvalidInput', `sealed ${this.blobType} blob ${id} is too short (${sealed.length} bytes)`)
      }
      if (this.known(id)) return false
      this.pending.add(id)
      const ul = uncompressedLength ? uncompressedLength : undefined
      await this.append(id, sealed, ul, ul ?? sealed.length - CIPHERTEXT_OVERHEAD)
      return true
    })
  }

  /**
   * Stores a local file through the seal pool's workers (which read, cut, hash and seal it; see
   * `SealPool.storeFile`), deduplicating its chunks here. Needs a `sealPool` started with a chunker.
   * Waits first while much sealed data is waiting to be stored.
   *
   * `parent`: the file's content in the parent snapshot (its chunk ids). Its leading chunks that the index holds
   * go to the worker (see `ParentChunks`): never claimed here, their bytes need not be kept while the worker asks
   * about them, and the leading ones that the file still has are taken without cutting.
   */
  storeFile(path: string | Uint8Array, expectedSize: number, parent?: readonly Id[]): Promise<StoredFile> {
    const pool = this.options.sealPool
    if (pool?.canStoreFiles && this.buffered <= 2 * this.sizer.targetSize() && !this.failure && !this.finalized && !this.options.signal?.aborted) {
      return this.track(() => pool.storeFile(path, expectedSize, this, this.parentChunks(parent))) // the usual case, without waiting
    }
    return this.track(async () => {
      this.check()
      if (!pool?.canStoreFiles) throw new RusticError('Internal', 'storeFile needs a seal pool with a chunker')
      const limit = 2 * this.sizer.targetSize()
      while (this.buffered > limit) {
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve))
        this.throwIfFailed()
      }
      return pool.storeFile(path, expectedSize, this, this.parentChunks(parent))
    })
  }

  /** The leading chunks of `content` that the index holds, with their lengths (see `ParentChunks`). */
  private parentChunks(content: readonly Id[] | undefined): ParentChunks | undefined {
    if (!content || content.length === 0) return undefined
    const ids: Id[] = []
    const lengths: number[] = []
    for (const id of content) {
      const at = this.index.get(this.blobType, id)
      if (!at) break
      ids.push(id)
      lengths.push(blobDataLength(at))
    }
    // the last chunk of the parent's file ended at its end, not at a cut
    return ids.length > 0 ? { ids, lengths, leading: Math.min(ids.length, content.length - 1) } : undefined
  }

  /** Reserves blob `id` unless the index, the indexer or this packer has it (see `BlobSink`). */
  claim(id: Id): boolean {
    if (this.failure || this.known(id)) return false
    this.pending.add(id)
    return true
  }

  /** Appends a blob reserved by {@link Packer.claim}, sealed elsewhere; errors are thrown by the next call. */
  addClaimed(id: Id, sealed: Uint8Array, uncompressedLength: number | undefined, dataLength: number, done: () => void): void {
    void this.track(() => this.append(id, sealed, uncompressedLength, dataLength, done)).catch((error: unknown) => {
      this.failure ??= { error }
      this.pending.delete(id)
    })
  }

  /**
   * Saves the pack being filled now, even if it is not full, and waits for the uploads under way (another
   * writer waits for a blob in it). Does nothing after `finalize` or a failure.
   */
  async flush(): Promise<void> {
    if (this.finalized || this.failure) return
    if (this.current.blobs.length > 0) await this.save(this.takePack())
    await Promise.allSettled([...this.uploads])
  }

  /**
   * Waits for adds under way, saves the last partial pack and waits for all uploads; afterwards every
   * added blob is in the indexer. Throws the first upload error, or `Aborted` after an abort
   * (packs stored before are in the indexer; the partial pack is not saved).
   */
  async finalize(): Promise<PackerStats> {
    if (this.finalized) throw new RusticError('Internal', `the ${this.blobType} packer is already finalized`)
    this.finalized = true
    await Promise.allSettled([...this.adding])
    if (this.options.sealPool?.canStoreFiles) {
      await this.options.sealPool.drain().catch((error: unknown) => void (this.failure ??= { error }))
      await Promise.allSettled([...this.adding])
    }
    await Promise.all([...this.sealing])
    try {
      this.throwIfFailed()
      if (this.current.blobs.length > 0) await this.save(this.takePack())
    } finally {
      await Promise.allSettled([...this.uploads])
      if (this.current.stream) await this.current.stream.abort() // a partial pack that is not saved
    }
    this.throwIfFailed()
    return this.stats
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    const p = fn()
    this.adding.add(p)
    const done = (): void => void this.adding.delete(p)
    p.then(done, done)
    return p
  }

  /** Throws a recorded upload error, an abort, or a use after finalize. */
  private check(): void {
    this.throwIfFailed()
    if (this.finalized) throw new RusticError('Internal', `the ${this.blobType} packer is already finalized`)
  }

  /** Throws a recorded upload error or an abort. */
  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error
    throwIfAborted(this.options.signal)
  }

  /** True if the blob is stored or being stored; if not, the caller stores it (and it is claimed for the other writers). */
  private known(id: Id): boolean {
    if (this.pending.has(id) || this.indexer.has(this.blobType, id)) return true
    const shared = this.options.sharedBlobs
    // before the index: it also lists blobs of other writers' stored packs whose index files are not written yet
    if (shared?.elsewhere(this.blobType, id)) return true
    if (this.index.has(this.blobType, id)) return true
    shared?.claim(this.blobType, id)
    return false
  }

  private verify(id: Id, plain: Uint8Array, sealed: Uint8Array, uncompressedLength: number | undefined): void {
    const what = `new ${this.blobType} blob ${id}`
    const opened = this.dbe.openBlob(sealed, uncompressedLength, what)
    if (Buffer.compare(opened, plain) !== 0) {
      throw new RusticError('Verification', `${what} changed after compression and encryption: memory or library fault`, {
        code: 'IntegrityError',
      })
    }
  }

  /** Appends a sealed blob to the current pack; `done` is called once `sealed` is copied or written. */
  private async append(id: Id, sealed: Uint8Array, uncompressedLength: number | undefined, dataLength: number, done?: () => void): Promise<void> {
    const n = sealed.length // read first: `done` may hand the buffer back
    const entry = uncompressedLength ? { uncompressedLength } : {}
    const entrySize = packHeaderEntrySize(entry)
    let full: OpenPack | undefined
    // keep packs (with header) below 4 GiB: a blob that would push the pack past the limit starts a new one
    if (this.current.blobs.length > 0 && this.current.size + n + this.current.headerSize + entrySize > MAX_PACK_SIZE) {
      full = this.takePack()
    }
    const pack = this.current
    pack.blobs.push({ id, type: this.blobType, offset: pack.size, length: n, ...entry })
    if (this.streams) this.stream(pack, sealed, done)
    else {
      reserve(pack, n, this.sizer.targetSize(), this.spare)
      pack.buf.set(sealed, pack.size)
      done?.()
    }
    pack.size += n
    pack.held += n
    this.buffered += n
    pack.headerSize += entrySize
    this.counters.blobs++
    this.counters.dataAdded += dataLength
    this.counters.dataAddedPacked += n
    if (full) await this.save(full)
    if (
      pack.size >= this.sizer.targetSize() ||
      pack.blobs.length >= this.options.maxBlobsPerPack ||
      Date.now() - pack.created >= this.options.maxPackAgeMs
    ) {
      if (pack === this.current) await this.save(this.takePack())
    }
  }

  /** Detaches the current pack (synchronously, so concurrent adds go into a new one). */
  private takePack(): OpenPack {
    const pack = this.current
    this.current = newPack()
    this.sizer.addSize(pack.size + pack.headerSize + CIPHERTEXT_OVERHEAD + PACK_HEADER_LENGTH_SIZE)
    return pack
  }

  /** Starts uploading a full pack once fewer than `maxPacksInFlight` uploads run. */
  private async save(pack: OpenPack): Promise<void> {
    while (this.uploads.size >= this.options.maxPacksInFlight) {
      await new Promise<void>((resolve) => this.uploadWaiters.push(resolve))
    }
    try {
      this.throwIfFailed()
    } catch (e) {
      this.dropPending(pack)
      this.unbuffer(pack)
      if (pack.stream) await pack.stream.abort()
      throw e
    }
    const upload = this.upload(pack)
      .catch(async (error: unknown) => {
        this.failure ??= { error }
        this.dropPending(pack)
        if (pack.stream) await pack.stream.abort()
      })
      .finally(() => this.unbuffer(pack))
    this.uploads.add(upload)
    void upload.finally(() => {
      this.uploads.delete(upload)
      this.uploadWaiters = wake(this.uploadWaiters)
    })
  }

  /** Queues a sealed blob's bytes for the pack's file (opened on the first blob). */
  private stream(pack: OpenPack, sealed: Uint8Array, done: (() => void) | undefined): void {
    pack.stream ??= new PackStream(this.dbe.backend.openFileWriter!('pack', false, { signal: this.options.signal }), (n) => this.unbuffer(pack, n))
    pack.stream.add(sealed, done)
  }

  /** `n` of a pack's bytes (default: all left) are no longer held: wakes {@link Packer.storeFile} calls waiting for room. */
  private unbuffer(pack: OpenPack, n = pack.held): void {
    pack.held -= n
    this.buffered -= n
    this.roomWaiters = wake(this.roomWaiters)
  }

  private dropPending(pack: OpenPack): void {
    for (const b of pack.blobs) this.pending.delete(b.id)
  }

  /** Builds the pack file, stores it, then hands it to the indexer. */
  private async upload(pack: OpenPack): Promise<void> {
    const signal = this.options.signal
    throwIfAborted(signal)
    const header = this.dbe.key.encrypt(serializePackHeader(pack.blobs))
    const total = pack.size + header.length + PACK_HEADER_LENGTH_SIZE
    if (pack.stream) return this.finishStream(pack, pack.stream, header, total)
    reserve(pack, header.length + PACK_HEADER_LENGTH_SIZE, 0, [])
    const buf = pack.buf
    pack.buf = EMPTY
    buf.set(header, pack.size)
    buf.writeUInt32LE(header.length, pack.size + header.length)
    const file = buf.subarray(0, total)
    const id = hashId(file)
    await this.dbe.backend.writeBytes('pack', id, this.blobType === 'tree', file, { signal })
    // stored: the buffer may be reused (backends do not keep it), which saves allocating and faulting in another
    if (this.spare.length === 0 && buf.length >= this.sizer.targetSize()) this.spare.push(buf)
    await this.stored(pack, id, total)
  }

  /** Writes the header of a streamed pack and stores the file under the hash of its bytes. */
  private async finishStream(pack: OpenPack, s: PackStream, header: Uint8Array, total: number): Promise<void> {
    const tail = Buffer.allocUnsafe(header.length + PACK_HEADER_LENGTH_SIZE)
    tail.set(header, 0)
    tail.writeUInt32LE(header.length, header.length)
    await this.stored(pack, await s.finish(tail), total)
  }

  /** A pack is stored: its blobs go to the indexer. */
  private async stored(pack: OpenPack, id: Id, total: number): Promise<void> {
    const indexPack: IndexPack = { id, blobs: pack.blobs, time: formatLocalGoTime(BigInt(Date.now()) * 1_000_000n) }
    const indexed = this.indexer.add(indexPack) // registers the blobs synchronously
    this.dropPending(pack)
    this.counters.packs++
    await indexed
    this.options.onPackSaved?.(id, total)
  }
}
