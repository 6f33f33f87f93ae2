import { RusticError } from '../error/RusticError.js'
import type { Id } from './Id.js'

/** Words of 32 bits in an id. */
const WORDS = 8

/** Value of each lower-case hex digit's character code, -1 for other characters. */
const HEX = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i
for (let i = 0; i < 6; i++) HEX[0x61 + i] = 10 + i

const HEX_DIGITS = '0123456789abcdef'
/** Two hex digits of each byte. */
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!)

/**
 * Writes the 32 bytes of a 64-digit lower-case hex id into `out` at word `at` as 8 words (big-endian: the
 * first byte is the top of the first word); false (nothing meaningful written) if `id` is not such an id.
 */
function idWords(id: string, out: Uint32Array, at: number): boolean {
  if (id.length !== 64) return false
  let bad = 0
  for (let w = 0; w < WORDS; w++) {
    let v = 0
    for (let p = w * 8, end = p + 8; p < end; p++) {
      const d = HEX[id.charCodeAt(p)] ?? -1
      bad |= d
      v = (v << 4) | (d & 15)
    }
    out[at + w] = v
  }
  return bad >= 0
}

/** Slot of an id (its 8 words at `at`) in a table of `mask + 1` slots: all its bits mixed. */
function slotOf(w: Uint32Array, at: number, mask: number): number {
  let h = 0x811c9dc5
  for (let i = at; i < at + WORDS; i++) h = Math.imul(h ^ w[i]!, 0x9e3779b1)
  return (h ^ (h >>> 15)) & mask
}

/**
 * A set of ids (SHA-256, 32 bytes) held compactly: the ids in one typed array, numbered 0, 1, ... in the order
 * they were added, and found through an open-addressing hash table of entry numbers keyed by the id's bits
 * (at most half full). A holder of data per id keeps it in typed arrays of its own, indexed by the entry
 * number and grown to {@link IdTable.capacity}: about 36 bytes an id here, where a `Map` keyed by hex strings
 * takes several times that.
 */
export class IdTable {
  #ids = new Uint32Array(0)
  /** Entry number + 1 per slot, 0 for an empty slot. */
  #slots = new Uint32Array(0)
  #size = 0
  /** The id being looked up or added, as words. */
  readonly #probe = new Uint32Array(WORDS)

  /** Number of ids. */
  get size(): number {
    return this.#size
  }

  /** Number of ids the table has room for before it grows (at least {@link IdTable.size}). */
  get capacity(): number {
    return this.#ids.length / WORDS
  }

  /** Forgets every id and gives back the memory. */
  clear(): void {
    this.#ids = new Uint32Array(0)
    this.#slots = new Uint32Array(0)
    this.#size = 0
  }

  /** Entry number of `id`, or -1 if it is not in the table (or not a 64-digit lower-case hex id). */
  indexOf(id: string): number {
    return idWords(id, this.#probe, 0) ? this.#find() : -1
  }

  /**
   * Adds `id` unless present. Returns its new entry number (`size - 1` after the call), or `-1 - e` if it was
   * there already as entry `e`.
   * @param what - what the id is for, for the error (e.g. "index blob").
   * @throws RusticError `Internal` if `id` is not a 64-digit lower-case hex id.
   */
  add(id: string, what: string): number {
    if (!idWords(id, this.#probe, 0)) {
      throw new RusticError('Internal', `cannot ${what} ${JSON.stringify(id.slice(0, 80))}: not a 64-digit hex id`, { code: 'Internal' })
    }
    return this.#addProbe()
  }

  /**
   * {@link IdTable.add} for an id given as its 64 hex digits (ASCII bytes) at `at` in `bytes`, without making
   * a string of them (index files read from their bytes).
   * @throws RusticError `Internal` if they are not 64 lower-case hex digits.
   */
  addHexBytes(bytes: Uint8Array, at: number, what: string): number {
    const p = this.#probe
    let bad = 0 // negative once a byte is not a hex digit (or past the end)
    for (let w = 0; w < WORDS; w++) {
      let v = 0
      for (let i = at + w * 8, end = i + 8; i < end; i++) {
        const d = i < bytes.length ? (HEX[bytes[i]!] ?? -1) : -1
        bad |= d
        v = (v << 4) | (d & 15)
      }
      p[w] = v
    }
    if (bad < 0) {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', at, Math.min(bytes.length, at + 64))
      throw new RusticError('Internal', `cannot ${what} ${JSON.stringify(text)}: not a 64-digit hex id`, { code: 'Internal' })
    }
    return this.#addProbe()
  }

  /** Adds the id in the probe (see {@link IdTable.add}). */
  #addProbe(): number {
    const found = this.#find()
    if (found >= 0) return -1 - found
    if (this.#size === this.capacity) this.#grow()
    const e = this.#size++
    this.#ids.set(this.#probe, e * WORDS)
    this.#place(e)
    return e
  }

  /** The hex id of entry `e`. */
  id(e: number): Id {
    const words = this.#ids
    let s = ''
    for (let w = e * WORDS, end = w + WORDS; w < end; w++) {
      const v = words[w]!
      s += BYTE_HEX[v >>> 24]! + BYTE_HEX[(v >>> 16) & 255]! + BYTE_HEX[(v >>> 8) & 255]! + BYTE_HEX[v & 255]!
    }
    return s as Id
  }

  /** Writes the 32 bytes of entry `e`'s id into `out` at byte `at`. */
  copyBytes(e: number, out: Uint8Array, at: number): void {
    const words = this.#ids
    for (let w = e * WORDS, end = w + WORDS; w < end; w++, at += 4) {
      const v = words[w]!
      out[at] = v >>> 24
      out[at + 1] = (v >>> 16) & 255
      out[at + 2] = (v >>> 8) & 255
      out[at + 3] = v & 255
    }
  }

  /** Entry number of the id in the probe, or -1. */
  #find(): number {
    const slots = this.#slots
    if (slots.length === 0) return -1
    const ids = this.#ids
    const p = this.#probe
    const mask = slots.length - 1
    for (let s = slotOf(p, 0, mask); ; s = (s + 1) & mask) {
      const e = slots[s]!
      if (e === 0) return -1
      const at = (e - 1) * WORDS
      if (ids[at] === p[0] && ids[at + 1] === p[1] && ids[at + 2] === p[2] && ids[at + 3] === p[3] && ids[at + 4] === p[4] && ids[at + 5] === p[5] && ids[at + 6] === p[6] && ids[at + 7] === p[7]) {
        return e - 1
      }
    }
  }

  #place(e: number): void {
    const slots = this.#slots
    const mask = slots.length - 1
    let s = slotOf(this.#ids, e * WORDS, mask)
    while (slots[s] !== 0) s = (s + 1) & mask
    slots[s] = e + 1
  }

  #grow(): void {
    const cap = Math.max(1024, this.capacity * 2)
    const ids = new Uint32Array(cap * WORDS)
    ids.set(this.#ids)
    this.#ids = ids
    this.#slots = new Uint32Array(cap * 2)
    for (let e = 0; e < this.#size; e++) this.#place(e)
  }
}
