import type { Id } from '../id/Id.js'
import { grow } from '../util/growArray.js'
import { isGoTime } from './goTime.js'
import type { BlobType, IndexBlob, IndexFile, IndexPack } from './IndexFile.js'
import { BACKSLASH, COMMA, LBRACE, LOWER_HEX, Q, RBRACE, RBRACKET } from './jsonBytes.js'


const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
const SUPERSEDES = ascii('{"supersedes":[')
const PACKS = ascii('"packs":[')
const PACKS_TO_DELETE = ascii(',"packs_to_delete":[')
const PACK_ID = ascii('{"id":"')
const BLOBS = ascii('","blobs":[')
const BLOB_ID = ascii('{"id":"')
const DATA = ascii('","type":"data","offset":')
const TREE = ascii('","type":"tree","offset":')
const LENGTH = ascii(',"length":')
const UNCOMPRESSED = ascii(',"uncompressed_length":')
const TIME = ascii(',"time":"')
const SIZE = ascii(',"size":')

/** Gives up on the fast scan (the caller then parses the file the general way). */
class NotCanonical extends Error {}
const notCanonical = new NotCanonical()

/**
 * A byte cursor over an index file in the exact form restic and rustic write it (Go's encoder: no
 * whitespace, members in struct order). Any other byte sequence throws {@link notCanonical}.
 */
class Scanner {
  pos = 0

  constructor(
    readonly b: Uint8Array,
    readonly latin1: (start: number, end: number) => string,
  ) {}

  /** True (and skips it) if `lit` comes next. */
  eat(lit: Uint8Array): boolean {
    const { b } = this
    const p = this.pos
    if (p + lit.length > b.length) return false
    for (let i = 0; i < lit.length; i++) if (b[p + i] !== lit[i]) return false
    this.pos = p + lit.length
    return true
  }

  expect(lit: Uint8Array): void {
    if (!this.eat(lit)) throw notCanonical
  }

  eatByte(c: number): boolean {
    if (this.b[this.pos] !== c) return false
    this.pos++
    return true
  }

  expectByte(c: number): void {
    if (this.b[this.pos++] !== c) throw notCanonical
  }

  /** Skips 64 lower-case hex digits (the opening quote already read; the closing one is left); returns their offset. */
  idAt(): number {
    const { b } = this
    const start = this.pos
    const end = start + 64
    if (end > b.length) throw notCanonical
    for (let i = start; i < end; i++) if (LOWER_HEX[b[i]!] === 0) throw notCanonical
    this.pos = end
    return start
  }

  /** {@link Scanner.idAt} as a string. */
  id(): Id {
    const at = this.idAt()
    return this.latin1(at, at + 64) as Id
  }

  /** A JSON integer in Go's form (no sign, no leading zero), at most 2^53 - 1. */
  uint(): number {
    const { b } = this
    const start = this.pos
    let p = start
    let n = 0
    for (; p < b.length; p++) {
      const d = b[p]! - 0x30
      if (d < 0 || d > 9) break
      n = n * 10 + d
    }
    const digits = p - start
    if (digits === 0 || digits > 16 || (digits > 1 && b[start] === 0x30) || !Number.isSafeInteger(n)) throw notCanonical
    const c = b[p]
    if (c === 0x2e || c === 0x65 || c === 0x45) throw notCanonical // a fraction or an exponent
    this.pos = p
    return n
  }

  /** A string without escapes (the opening quote already read), and the closing quote. */
  plainString(): string {
    const { b } = this
    const start = this.pos
    let p = start
    for (; p < b.length; p++) {
      const c = b[p]!
      if (c === Q) break
      if (c === BACKSLASH || c < 0x20 || c >= 0x80) throw notCanonical
    }
    if (p >= b.length) throw notCanonical
    this.pos = p + 1
    return this.latin1(start, p)
  }
}

/**
 * The packs of an index file read by {@link scanIndexBytes}, their blobs in typed arrays (no object per
 * blob): blob `j` of pack `i` is entry `packEnds[i - 1] ?? 0` + `j`; its id is the 64 hex digits at byte
 * `idAt[e]` of `json`.
 */
export class ScannedPacks {
  readonly packIds: Id[] = []
  readonly packTimes: Array<string | undefined> = []
  readonly packSizes: Array<number | undefined> = []
  /** End (exclusive) of each pack's entries. */
  readonly packEnds: number[] = []
  /** Number of blob entries. */
  count = 0
  idAt = new Uint32Array(0)
  /** 1 for a tree blob, 0 for a data blob. */
  tree = new Uint8Array(0)
  offsets = new Float64Array(0)
  lengths = new Float64Array(0)
  /** The uncompressed length, 0 for an uncompressed blob. */
  uncompressed = new Float64Array(0)

  constructor(
    /** The index file's bytes, which {@link ScannedPacks.idAt} points into. */
    readonly json: Uint8Array,
  ) {}

  /** The type of entry `e`. */
  type(e: number): BlobType {
    return this.tree[e] === 1 ? 'tree' : 'data'
  }

  /** Adds a blob entry. */
  push(idAt: number, tree: boolean, offset: number, length: number, uncompressed: number): void {
    const e = this.count++
    if (e === this.idAt.length) {
      const need = Math.max(256, e + 1)
      this.idAt = grow(this.idAt, need)
      this.tree = grow(this.tree, need)
      this.offsets = grow(this.offsets, need)
      this.lengths = grow(this.lengths, need)
      this.uncompressed = grow(this.uncompressed, need)
    }
    this.idAt[e] = idAt
    this.tree[e] = tree ? 1 : 0
    this.offsets[e] = offset
    this.lengths[e] = length
    this.uncompressed[e] = uncompressed
  }

  /** The packs as `parseIndex` returns them (an object per blob). */
  toIndexPacks(): IndexPack[] {
    const buf = Buffer.from(this.json.buffer, this.json.byteOffset, this.json.byteLength)
    const packs: IndexPack[] = []
    let e = 0
    for (let i = 0; i < this.packIds.length; i++) {
      const blobs: IndexBlob[] = []
      for (const end = this.packEnds[i]!; e < end; e++) {
        const at = this.idAt[e]!
        const blob: IndexBlob = { id: buf.toString('latin1', at, at + 64) as Id, type: this.type(e), offset: this.offsets[e]!, length: this.lengths[e]! }
        if (this.uncompressed[e]! !== 0) blob.uncompressedLength = this.uncompressed[e]!
        blobs.push(blob)
      }
      const pack: IndexPack = { id: this.packIds[i]!, blobs }
      if (this.packTimes[i] !== undefined) pack.time = this.packTimes[i]
      if (this.packSizes[i] !== undefined) pack.size = this.packSizes[i]
      packs.push(pack)
    }
    return packs
  }
}

/** An index file read by {@link scanIndexBytes}. */
export interface ScannedIndex {
  /** Index files this one replaces (left out when none). */
  supersedes?: Id[]
  packs: ScannedPacks
  /** rustic's packs marked for deletion (left out when none). */
  packsToDelete?: ScannedPacks
}

/** The index file as `parseIndex` returns it. */
export function scannedIndexFile(scanned: ScannedIndex): IndexFile {
  const f: IndexFile = { packs: scanned.packs.toIndexPacks() }
  if (scanned.supersedes !== undefined) f.supersedes = scanned.supersedes
  if (scanned.packsToDelete !== undefined) f.packsToDelete = scanned.packsToDelete.toIndexPacks()
  return f
}

function scanPacks(s: Scanner): ScannedPacks {
  const out = new ScannedPacks(s.b)
  if (s.eatByte(RBRACKET)) return out
  do {
    s.expect(PACK_ID)
    out.packIds.push(s.id())
    s.expect(BLOBS)
    if (!s.eatByte(RBRACKET)) {
      do {
        s.expect(BLOB_ID)
        const at = s.idAt()
        const tree = s.eat(TREE)
        if (!tree) s.expect(DATA)
        const offset = s.uint()
        s.expect(LENGTH)
        const length = s.uint()
        const ul = s.eat(UNCOMPRESSED) ? s.uint() : 0
        s.expectByte(RBRACE)
        out.push(at, tree, offset, length, ul)
      } while (s.eatByte(COMMA))
      s.expectByte(RBRACKET)
    }
    out.packEnds.push(out.count)
    let time: string | undefined
    if (s.eat(TIME)) {
      time = s.plainString()
      if (!isGoTime(time)) throw notCanonical
    }
    out.packTimes.push(time)
    out.packSizes.push(s.eat(SIZE) ? s.uint() : undefined)
    s.expectByte(RBRACE)
  } while (s.eatByte(COMMA))
  s.expectByte(RBRACKET)
  return out
}

/**
 * Reads an index file (after `decodeUnpacked`) straight from its bytes when it is in the exact form restic
 * and rustic write (`{"supersedes":[...],"packs":[{"id":...,"blobs":[{"id":...,"type":...,"offset":...,
 * "length":...,"uncompressed_length":...}]}]}`, no whitespace, a newline at the end), into typed arrays:
 * the same content as `parseIndex`'s general path, without the file's JSON text as a string and an object
 * per member (an index file of 100,000 blobs took ~30 MB of heap that way). Returns `undefined` for
 * anything else (other spacing or member order, escapes, numbers beyond 2^53, the legacy array form),
 * which the general path then reads (and reports if malformed).
 */
export function scanIndexBytes(json: Uint8Array): ScannedIndex | undefined {
  const buf = Buffer.from(json.buffer, json.byteOffset, json.byteLength)
  const s = new Scanner(json, (start, end) => buf.toString('latin1', start, end))
  try {
    let supersedes: Id[] | undefined
    if (s.eat(SUPERSEDES)) {
      const ids: Id[] = []
      if (!s.eatByte(RBRACKET)) {
        do {
          s.expectByte(Q)
          ids.push(s.id())
          s.expectByte(Q)
        } while (s.eatByte(COMMA))
        s.expectByte(RBRACKET)
      }
      if (ids.length > 0) supersedes = ids
      s.expectByte(COMMA)
    } else s.expectByte(LBRACE)
    s.expect(PACKS)
    const f: ScannedIndex = { packs: scanPacks(s) }
    if (supersedes !== undefined) f.supersedes = supersedes
    if (s.eat(PACKS_TO_DELETE)) {
      const toDelete = scanPacks(s)
      if (toDelete.packIds.length > 0) f.packsToDelete = toDelete
    }
    s.expectByte(RBRACE)
    if (s.pos < json.length && json[s.pos] === 0x0a) s.pos++
    if (s.pos !== json.length) return undefined
    return f
  } catch (e) {
    if (e === notCanonical) return undefined
    throw e
  }
}
