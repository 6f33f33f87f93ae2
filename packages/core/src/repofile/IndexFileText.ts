import type { Id } from '../id/Id.js'
import { goJsonString } from './goJson.js'
import type { IndexPack } from './IndexFile.js'

/**
 * A growing byte buffer that JSON text is written into piece by piece: an index file of 50,000 blobs is
 * ~7 MB of text, which as one string (and its pieces, and its encoding) took ~25 MB of the main thread's
 * heap while it was written. Its memory is its own allocation, so pages past the text are not touched.
 */
class JsonBytes {
  private buf: Buffer
  length = 0

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(capacity, 256))
  }

  /** Appends `text` as UTF-8. */
  put(text: string): void {
    this.room(3 * text.length) // UTF-8 takes at most 3 bytes a UTF-16 unit
    this.length += this.buf.write(text, this.length, 'utf8')
  }

  /** Appends bytes. */
  putBytes(bytes: Uint8Array): void {
    this.room(bytes.length)
    this.buf.set(bytes, this.length)
    this.length += bytes.length
  }

  /** The text so far followed by `tail`, which is not kept: later text overwrites it. */
  withTail(tail: string): Uint8Array {
    this.room(tail.length)
    const n = this.buf.write(tail, this.length, 'latin1')
    return this.buf.subarray(0, this.length + n)
  }

  /** The text so far from byte `from` on. */
  bytes(from = 0): Uint8Array {
    return this.buf.subarray(from, this.length)
  }

  private room(n: number): void {
    const need = this.length + n
    if (need <= this.buf.length) return
    const grown = Buffer.allocUnsafeSlow(Math.max(need, Math.ceil(this.buf.length * 1.5)))
    this.buf.copy(grown, 0, 0, this.length)
    this.buf = grown
  }
}

const HEAD = '{"packs":['

/** Bytes of JSON text a list of packs takes, about (for the first size of a buffer). */
export function packsTextSize(packs: readonly IndexPack[] | undefined): number {
  let n = 0
  for (const p of packs ?? []) n += 160 + 150 * p.blobs.length
  return n
}

/**
 * An index file's JSON (restic 0.14's form, see `serializeIndex`) written pack by pack as the packs come:
 * a writer of index files keeps the text of the packs not yet in a file, about 150 bytes a blob outside
 * the JS heap, instead of one object and one id string per blob, and the file's bytes are that text with
 * its closing brackets (no copy) when it has no `supersedes` or `packs_to_delete`.
 */
export class IndexFileText {
  /** `{"packs":[` and the packs' text, comma-separated. */
  private readonly packs: JsonBytes
  /** The text of the packs marked for deletion, comma-separated. */
  private toDelete: JsonBytes | undefined
  private packCount = 0
  private deleteCount = 0
  private readonly deleteCapacity: number

  /** @param capacity - bytes of pack text expected (the buffer grows past it); `deleteCapacity` for packs to delete. */
  constructor(capacity = 0, deleteCapacity = 0) {
    this.packs = new JsonBytes(HEAD.length + capacity + 8)
    this.packs.put(HEAD)
    this.deleteCapacity = deleteCapacity
  }

  /** True if no pack was added. */
  get isEmpty(): boolean {
    return this.packCount === 0 && this.deleteCount === 0
  }

  /** Adds a pack to `packs`. */
  addPack(p: IndexPack): void {
    putPack(this.packs, p, this.packCount++ > 0)
  }

  /** Adds a pack to `packs_to_delete` (rustic's two-phase prune). */
  addPackToDelete(p: IndexPack): void {
    this.toDelete ??= new JsonBytes(this.deleteCapacity)
    putPack(this.toDelete, p, this.deleteCount++ > 0)
  }

  /** Adds the packs of `other` after this one's (in both lists). */
  append(other: IndexFileText): void {
    if (other.packCount > 0) {
      if (this.packCount > 0) this.packs.put(',')
      this.packs.putBytes(other.packs.bytes(HEAD.length))
      this.packCount += other.packCount
    }
    if (other.toDelete !== undefined && other.deleteCount > 0) {
      this.toDelete ??= new JsonBytes(other.toDelete.length)
      if (this.deleteCount > 0) this.toDelete.put(',')
      this.toDelete.putBytes(other.toDelete.bytes())
      this.deleteCount += other.deleteCount
    }
  }

  /**
   * The index file's JSON (with a trailing newline; `supersedes` and `packs_to_delete` only when not
   * empty). Packs may still be added after it; the bytes returned are valid until then.
   */
  bytes(supersedes?: readonly Id[]): Uint8Array {
    const del = this.deleteCount > 0 ? this.toDelete : undefined
    if ((supersedes === undefined || supersedes.length === 0) && del === undefined) return this.packs.withTail(']}\n')
    const sup = supersedes !== undefined && supersedes.length > 0 ? `"supersedes":[${supersedes.map((id) => `"${id}"`).join(',')}],` : ''
    const out = new JsonBytes(this.packs.length + (del?.length ?? 0) + sup.length + 32)
    out.put('{' + sup + '"packs":[')
    out.putBytes(this.packs.bytes(HEAD.length))
    out.put(']')
    if (del !== undefined) {
      out.put(',"packs_to_delete":[')
      out.putBytes(del.bytes())
      out.put(']')
    }
    out.put('}\n')
    return out.bytes()
  }
}

function putPack(out: JsonBytes, p: IndexPack, comma: boolean): void {
  out.put(`${comma ? ',' : ''}{"id":"${p.id}","blobs":[`)
  for (let i = 0; i < p.blobs.length; i++) {
    const b = p.blobs[i]!
    const ul = b.uncompressedLength ? `,"uncompressed_length":${b.uncompressedLength}` : ''
    out.put(`${i === 0 ? '' : ','}{"id":"${b.id}","type":"${b.type}","offset":${b.offset},"length":${b.length}${ul}}`)
  }
  let tail = ']'
  if (p.time !== undefined) tail += `,"time":${goJsonString(p.time)}`
  if (p.size !== undefined) tail += `,"size":${p.size}`
  out.put(tail + '}')
}
