import { createHash, type Hash } from 'node:crypto'
import type { Key } from '../../crypto/Key.js'
import type { Id } from '../../id/Id.js'
import type { BlobType, IndexBlob } from '../../repofile/IndexFile.js'
import { PACK_HEADER_LENGTH_SIZE, packHeaderLength, packSizeFromBlobs, parsePackHeader, type PackBlob } from '../../repofile/PackHeader.js'
import type { BlobVerifier } from './BlobVerifier.js'
import { byOffset } from './byOffset.js'

/** A problem found in a pack by `check --read-data`. */
export interface PackProblem {
  kind: 'packHashMismatch' | 'packSizeMismatch' | 'packHeaderDamaged' | 'packHeaderMismatch' | 'blobDamaged'
  /** One line (restic's wording where restic has one). */
  message: string
  /** The blob concerned. */
  blob?: { type: BlobType; id: Id }
}

/** What verifying a pack found. */
export interface PackVerification {
  /** The problems, empty for a sound pack. */
  problems: PackProblem[]
  /** Blobs opened and verified. */
  blobsVerified: number
}

/**
 * A blob found sound (by `BlobVerifier.open`, i.e. by the checks `BlobVerifier.problem` makes) in the very bytes a
 * {@link PackVerifier} is given, by its offset in the pack: the verifier counts an index entry with the same
 * offset, length, uncompressed length and id as verified without opening it again.
 */
export interface VerifiedBlob {
  id: Id
  length: number
  uncompressedLength?: number
}

/**
 * The share of a pack's verifying that one `PackVerifier` does when the pack is split between threads (see
 * `planPackParts`). The lead part gets every byte before the tail: it hashes the pack, checks the header and the
 * blobs starting before `blobsTo`; each other part gets the bytes from `start` to `end` only and checks the blobs
 * starting there. The blobs of the parts together are the pack's, each in exactly one part; {@link mergePackParts}
 * puts what the parts found together as one verifier of the whole pack would have found it.
 */
export interface PackPart {
  /** The first byte pushed, where this part's blobs start (0 for the lead part). */
  start: number
  /** Where the bytes pushed end: the pack's `tailStart` for the lead and the last part (which then get the tail too), else where the next part starts. */
  end: number
  /** This part checks the blobs starting from `start` up to here (`Infinity` for the last part). */
  blobsTo: number
  /** Hashes every byte and checks the header and the pack's size against the index (the lead part, `start` 0). */
  lead: boolean
}

/**
 * What a verifier of the whole pack would have found, from what its parts found (the lead part first, then the
 * others in the order of their bytes): the lead's pack problems, every part's damaged blobs in pack order, then the
 * lead's size problem.
 */
export function mergePackParts(parts: readonly PackVerification[]): PackVerification {
  const [lead, ...rest] = parts
  if (lead === undefined) return { problems: [], blobsVerified: 0 }
  const problems = lead.problems.filter((p) => p.kind !== 'packSizeMismatch')
  let blobsVerified = lead.blobsVerified
  for (const v of rest) {
    problems.push(...v.problems)
    blobsVerified += v.blobsVerified
  }
  problems.push(...lead.problems.filter((p) => p.kind === 'packSizeMismatch'))
  return { problems, blobsVerified }
}

/** A stretch of the pack that is checked once all its bytes are there: a blob, or the header. */
interface Region {
  start: number
  end: number
  /** The blob's position in the verifier's sorted blobs, -1 for the header. */
  blob: number
  /** Its bytes so far, when they come in more than one piece. */
  carry?: Uint8Array
}

/**
 * Verifies one pack from its bytes as they come, in order, without any I/O (so it runs on a worker thread
 * as well as on the main thread) and without holding the whole pack: the SHA-256 of all the bytes is the
 * pack id; the header decrypts and parses, its length is the one the index implies, and its entries are
 * exactly the index's (type, id, offset, lengths); every indexed blob opens (MAC), decompresses to its
 * indexed length and hashes to its id. A blob is checked as soon as its last byte is in, straight from the
 * piece holding it (a blob spread over pieces is gathered first).
 *
 * The pack's tail (from `tailStart`, see `planPackReads`) comes first, with the header's length: so the
 * header can be gathered as the bytes before it go by. Then the bytes from 0 to `tailStart`, in pieces
 * ({@link PackVerifier.push}), then {@link PackVerifier.finish}. The pieces are only read.
 */
export class PackVerifier {
  private readonly what: string
  /** Every byte's SHA-256: only in the lead part (see {@link PackPart}), and not for a pack hashed before. */
  private readonly hash: Hash | undefined
  /** Where the bytes pushed end. */
  private readonly end: number
  /** The index's blobs that lie inside the pack, by offset. */
  private readonly blobs: IndexBlob[] = []
  private readonly blobProblems: Array<string | undefined> = []
  private beyond = 0
  private blobsVerified = 0
  private readonly regions: Region[] = []
  private next = 0
  private active: Region[] = []
  private pos: number
  private headerProblem: PackProblem | undefined
  private header: { blobs: PackBlob[]; length: number } | undefined
  private headerLength = 0

  /**
   * @param expected - the index's entries for this pack (any order).
   * @param tail - the pack's bytes from `tailStart` to its end (`tailStart` ≤ size − 4 when size ≥ 4).
   * @param part - the share of the pack this verifier checks, if not all of it.
   * @param verified - blobs already found sound in these bytes, by offset (see {@link VerifiedBlob}): not opened again.
   * @param hashed - the pack's `size` bytes are known to hash to `packId` (see `CheckOptions.hashedPacks`): they are
   *   not hashed again (the header, its size and every blob are checked as usual).
   */
  constructor(
    private readonly key: Key,
    private readonly packId: Id,
    private readonly size: number,
    private readonly expected: readonly IndexBlob[],
    private readonly tailStart: number,
    private readonly tail: Uint8Array,
    private readonly opener: BlobVerifier,
    private readonly part: PackPart = { start: 0, end: tailStart, blobsTo: Infinity, lead: true },
    private readonly verified?: ReadonlyMap<number, VerifiedBlob>,
    hashed = false,
  ) {
    this.what = `pack ${packId}`
    if (tail.length !== size - tailStart || tailStart > Math.max(0, size - PACK_HEADER_LENGTH_SIZE)) {
      throw new Error(`${this.what}: a tail of ${tail.length} bytes from ${tailStart} does not end a pack of ${size} bytes`)
    }
    const { start, end, blobsTo, lead } = part
    if (start < 0 || start > end || end > tailStart || (lead && (start !== 0 || end !== tailStart))) {
      throw new Error(`${this.what}: a part from ${start} to ${end} does not fit before the tail at ${tailStart}`)
    }
    this.pos = start
    this.end = end
    this.hash = lead && !hashed ? createHash('sha256') : undefined
    for (const b of byOffset(expected)) {
      if (b.offset + b.length > size) this.beyond++
      else if (b.offset >= start && b.offset < blobsTo) this.regions.push({ start: b.offset, end: b.offset + b.length, blob: this.blobs.push(b) - 1 })
    }
    if (!lead) return
    try {
      const length = packHeaderLength(tail.subarray(Math.max(0, tail.length - PACK_HEADER_LENGTH_SIZE)), size, this.what)
      const end = size - PACK_HEADER_LENGTH_SIZE
      this.headerLength = length
      this.regions.push({ start: end - length, end, blob: -1 })
      this.regions.sort((x, y) => x.start - y.start)
    } catch (e) {
      this.headerProblem = this.unreadableHeader(e)
    }
  }

  /** The next bytes of the pack (from where the last piece ended, up to `tailStart`, or the end of the part). */
  push(piece: Uint8Array): void {
    if (this.pos + piece.length > this.end) {
      const where = this.end === this.tailStart ? 'the tail' : 'the end of the part'
      throw new Error(`${this.what}: bytes ${this.pos}..${this.pos + piece.length} overrun ${where} at ${this.end}`)
    }
    this.hash?.update(piece)
    this.feed(piece, this.pos)
    this.pos += piece.length
  }

  /**
   * How many of the next `length` bytes to push next for a part of about `step` bytes that ends where a blob
   * (or the header) ends, so that no blob has to be gathered from parts: at least 1, at most `length` (a blob
   * larger than `step` makes a larger part). Any cut gives the same result; this one only saves copies.
   */
  partLength(length: number, step: number): number {
    const limit = this.pos + Math.min(length, step)
    let cut = 0
    for (let i = this.next; i < this.regions.length; i++) {
      const r = this.regions[i]!
      if (r.start >= limit) break
      if (r.end <= limit) cut = Math.max(cut, r.end)
      else {
        if (cut === 0) cut = r.end
        break
      }
    }
    return cut > this.pos ? Math.min(cut - this.pos, length) : Math.max(1, Math.min(step, length))
  }

  /** Takes the tail and tells what was found; every byte before the tail (of the part) must have been pushed. */
  finish(): PackVerification {
    if (this.pos !== this.end) throw new Error(`${this.what}: the bytes up to ${this.end} were not all given (${this.pos})`)
    if (this.end === this.tailStart) {
      this.hash?.update(this.tail)
      this.feed(this.tail, this.tailStart)
    }
    // only empty regions at the very end can be left
    for (; this.next < this.regions.length; this.next++) this.complete(this.regions[this.next]!, new Uint8Array(0))

    const problems: PackProblem[] = []
    const actual = this.hash?.digest('hex') ?? this.packId
    if (actual !== this.packId) {
      problems.push({ kind: 'packHashMismatch', message: `Pack ID does not match, want ${this.packId}, got ${actual}` })
    }
    if (this.headerProblem) problems.push(this.headerProblem)
    else if (this.header) compareHeader(this.packId, this.header, this.expected, problems)
    this.blobs.forEach((b, i) => {
      const reason = this.blobProblems[i]
      if (reason !== undefined) problems.push({ kind: 'blobDamaged', message: `pack ${this.packId}: blob ${b.id}: ${reason}`, blob: { type: b.type, id: b.id } })
    })
    if (this.beyond > 0 && this.part.lead) {
      problems.push({
        kind: 'packSizeMismatch',
        message: `pack ${this.packId}: ${this.beyond} indexed blobs lie beyond its end (it has ${this.size} bytes, the index implies ${packSizeFromBlobs([...this.expected])})`,
      })
    }
    return { problems, blobsVerified: this.blobsVerified }
  }

  /** Checks the regions that end in `piece` (the bytes from `at`), and gathers the ones that go on past it. */
  private feed(piece: Uint8Array, at: number): void {
    const end = at + piece.length
    if (this.active.length > 0) {
      const still: Region[] = []
      for (const r of this.active) {
        const from = Math.max(r.start, at)
        const to = Math.min(r.end, end)
        r.carry!.set(piece.subarray(from - at, to - at), from - r.start)
        if (r.end <= end) this.complete(r, r.carry!)
        else still.push(r)
      }
      this.active = still
    }
    while (this.next < this.regions.length && this.regions[this.next]!.start < end) {
      const r = this.regions[this.next++]!
      if (r.end <= end) {
        this.complete(r, piece.subarray(r.start - at, r.end - at))
      } else {
        r.carry = new Uint8Array(r.end - r.start)
        r.carry.set(piece.subarray(r.start - at), 0)
        this.active.push(r)
      }
    }
  }

  private complete(r: Region, bytes: Uint8Array): void {
    r.carry = undefined
    if (r.blob < 0) {
      try {
        const plain = this.key.decrypt(bytes, `header of ${this.what}`)
        this.header = { blobs: parsePackHeader(plain, this.what), length: this.headerLength }
      } catch (e) {
        this.headerProblem = this.unreadableHeader(e)
      }
      return
    }
    const b = this.blobs[r.blob]!
    const known = this.verified?.get(b.offset)
    if (known !== undefined && known.id === b.id && known.length === b.length && (known.uncompressedLength ?? 0) === (b.uncompressedLength ?? 0)) {
      this.blobsVerified++
      return
    }
    const reason = this.opener.problem(bytes, b)
    if (reason === undefined) this.blobsVerified++
    else this.blobProblems[r.blob] = reason
  }

  private unreadableHeader(e: unknown): PackProblem {
    return { kind: 'packHeaderDamaged', message: `${this.what}: the pack header cannot be read: ${(e as Error).message}` }
  }
}

function entryKey(b: { type: BlobType; id: Id; offset: number; length: number; uncompressedLength?: number }): string {
  return `${b.type}/${b.id}/${b.offset}/${b.length}/${b.uncompressedLength ?? 0}`
}

/** True if `header` and `expected` hold the same entries (type, id, offset, lengths) in some order (the usual case, checked without a string per entry). */
function sameEntries(header: readonly PackBlob[], expected: readonly IndexBlob[]): boolean {
  if (header.length !== expected.length) return false
  const sorted = byOffset(expected)
  let previous = -1
  for (let i = 0; i < header.length; i++) {
    const h = header[i]!
    const e = sorted[i]!
    // header entries in pack order, each at a new offset: then the sorted index entries must match one to one
    if (h.offset <= previous) return false
    previous = h.offset
    if (h.offset !== e.offset || h.length !== e.length || h.type !== e.type || h.id !== e.id || (h.uncompressedLength ?? 0) !== (e.uncompressedLength ?? 0)) return false
  }
  return true
}

function compareHeader(packId: Id, header: { blobs: PackBlob[]; length: number }, expected: readonly IndexBlob[], problems: PackProblem[]): void {
  let indexBlobsLength = 0
  for (const b of expected) indexBlobsLength += b.length
  const want = packSizeFromBlobs([...expected]) - indexBlobsLength - PACK_HEADER_LENGTH_SIZE
  if (want !== header.length) {
    problems.push({
      kind: 'packHeaderMismatch',
      message: `pack ${packId}: Pack header size does not match, want ${want}, got ${header.length}`,
    })
  }
  if (sameEntries(header.blobs, expected)) return
  const indexed = new Set(expected.map(entryKey))
  const inHeader = new Set<string>()
  for (const b of header.blobs) {
    const k = entryKey(b)
    inHeader.add(k)
    if (!indexed.has(k)) {
      problems.push({
        kind: 'packHeaderMismatch',
        message: `pack ${packId}: Blob ${b.id} is not contained in index or position is incorrect`,
        blob: { type: b.type, id: b.id },
      })
    }
  }
  for (const b of expected) {
    if (!inHeader.has(entryKey(b))) {
      problems.push({
        kind: 'packHeaderMismatch',
        message: `pack ${packId}: the index lists blob ${b.id} at offset ${b.offset}, which the pack header does not`,
        blob: { type: b.type, id: b.id },
      })
    }
  }
}
