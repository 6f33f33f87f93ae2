import { z } from 'zod'
import type { Id } from '../id/Id.js'
import { IdSchema, parseJsonText, UintSchema, validateJson } from './decodeJson.js'
import { GoTimeSchema } from './GoTimeSchema.js'
import { isGoTime } from './goTime.js'
import { IndexFileText, packsTextSize } from './IndexFileText.js'
import { scanIndexBytes, scannedIndexFile } from './scanIndexBytes.js'

/** The two kinds of blobs: file contents (`data`) and directory listings (`tree`). */
export type BlobType = 'data' | 'tree'

/** A blob's entry in an index file. */
export interface IndexBlob {
  /** Blob id (SHA-256 of its uncompressed plaintext). */
  id: Id
  /** Blob type. */
  type: BlobType
  /** Offset of the sealed blob in its pack. */
  offset: number
  /** Stored (sealed, possibly compressed) length. */
  length: number
  /** Uncompressed plaintext length, only for compressed blobs. */
  uncompressedLength?: number
}

/** A pack's entry in an index file. */
export interface IndexPack {
  /** Pack id. */
  id: Id
  /** The pack's blobs. */
  blobs: IndexBlob[]
  /** rustic: pack creation time, or when it was marked for deletion (RFC 3339, kept as stored). */
  time?: string
  /** rustic: pack size in bytes. */
  size?: number
}

/** An index file (`index/<id>`, an unpacked file). */
export interface IndexFile {
  /** Index files this one replaces (restic; readers may ignore it). */
  supersedes?: Id[]
  /** Packs and their blobs. */
  packs: IndexPack[]
  /** rustic: packs marked for deletion by a first prune phase (JSON `packs_to_delete`). */
  packsToDelete?: IndexPack[]
  /**
   * True when the file is in restic's legacy format (before restic 0.7): a bare JSON array of packs, no
   * `supersedes`. restic 0.14 still reads it (its `check` calls it "old format"); it is never written.
   */
  legacyFormat?: boolean
}

const IndexBlobSchema = z.object({
  id: IdSchema,
  type: z.enum(['data', 'tree']),
  offset: UintSchema,
  length: UintSchema,
  uncompressed_length: UintSchema.nullish(),
})

const IndexPackSchema = z.object({
  id: IdSchema,
  blobs: z
    .array(IndexBlobSchema)
    .nullish()
    .transform((b) => b ?? []),
  time: GoTimeSchema.nullish(),
  size: UintSchema.nullish(),
})

/** zod schema of an index file's JSON. */
export const IndexFileSchema = z.object({
  supersedes: z.array(IdSchema).nullish(),
  packs: z
    .array(IndexPackSchema)
    .nullish()
    .transform((p) => p ?? []),
  packs_to_delete: z.array(IndexPackSchema).nullish(),
})

function packFromJson(p: z.output<typeof IndexPackSchema>): IndexPack {
  const blobs: IndexBlob[] = new Array(p.blobs.length)
  for (let i = 0; i < p.blobs.length; i++) {
    const b = p.blobs[i]!
    const blob: IndexBlob = { id: b.id, type: b.type, offset: b.offset, length: b.length }
    if (b.uncompressed_length != null && b.uncompressed_length !== 0) blob.uncompressedLength = b.uncompressed_length
    blobs[i] = blob
  }
  const pack: IndexPack = { id: p.id, blobs }
  if (p.time != null) pack.time = p.time
  if (p.size != null) pack.size = p.size
  return pack
}

const LOWER_HEX_ID = /^[0-9a-f]{64}$/

function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function fastPacks(list: unknown): IndexPack[] | undefined {
  if (!Array.isArray(list)) return undefined
  const packs: IndexPack[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const p = list[i] as Record<string, unknown> | null
    if (typeof p !== 'object' || p === null) return undefined
    const { id, blobs, time, size } = p
    if (typeof id !== 'string' || !LOWER_HEX_ID.test(id) || !Array.isArray(blobs)) return undefined
    if ((time !== undefined && (typeof time !== 'string' || !isGoTime(time))) || (size !== undefined && !isUint(size))) return undefined
    const out: IndexBlob[] = new Array(blobs.length)
    for (let j = 0; j < blobs.length; j++) {
      const b = blobs[j] as Record<string, unknown> | null
      if (typeof b !== 'object' || b === null) return undefined
      const { id: bid, type, offset, length, uncompressed_length: ul } = b
      if (typeof bid !== 'string' || !LOWER_HEX_ID.test(bid) || (type !== 'data' && type !== 'tree')) return undefined
      if (!isUint(offset) || !isUint(length)) return undefined
      const blob: IndexBlob = { id: bid as Id, type, offset, length }
      if (ul !== undefined) {
        if (!isUint(ul)) return undefined
        if (ul !== 0) blob.uncompressedLength = ul
      }
      out[j] = blob
    }
    const pack: IndexPack = { id: id as Id, blobs: out }
    if (time !== undefined) pack.time = time as string
    if (size !== undefined) pack.size = size
    packs[i] = pack
  }
  return packs
}

/**
 * Fast path of {@link parseIndex} for index files in canonical form (what restic and rustic write):
 * the same checks as {@link IndexFileSchema}, without zod's per-object cost (~1 µs a blob). Returns
 * `undefined` for anything unusual, which then goes through the zod schema (which also makes the error message).
 */
function fastIndexFromJson(value: unknown): IndexFile | undefined {
  if (Array.isArray(value)) {
    const packs = fastPacks(value)
    return packs === undefined ? undefined : { packs, legacyFormat: true }
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { supersedes, packs, packs_to_delete: toDelete } = value as Record<string, unknown>
  const f: IndexFile = { packs: [] }
  if (supersedes !== undefined && supersedes !== null) {
    if (!Array.isArray(supersedes) || !supersedes.every((s) => typeof s === 'string' && LOWER_HEX_ID.test(s))) return undefined
    if (supersedes.length > 0) f.supersedes = supersedes as Id[]
  }
  if (packs !== undefined && packs !== null) {
    const p = fastPacks(packs)
    if (p === undefined) return undefined
    f.packs = p
  }
  if (toDelete !== undefined && toDelete !== null) {
    const p = fastPacks(toDelete)
    if (p === undefined) return undefined
    if (p.length > 0) f.packsToDelete = p
  }
  return f
}

/**
 * The index file's JSON as restic 0.14 writes it: Go JSON with a trailing newline; `supersedes`
 * and `packs_to_delete` left out when empty; `uncompressed_length` only for compressed blobs.
 */
export function serializeIndex(f: IndexFile): Uint8Array {
  const text = new IndexFileText(packsTextSize(f.packs), packsTextSize(f.packsToDelete))
  for (const p of f.packs) text.addPack(p)
  for (const p of f.packsToDelete ?? []) text.addPackToDelete(p)
  return text.bytes(f.supersedes)
}

/** zod schema of an index file in restic's legacy format: a bare array of packs. */
const LegacyIndexFileSchema = z.array(IndexPackSchema)

/**
 * Parses an index file's JSON (after {@link decodeUnpacked}), in the current form (an object with
 * `packs`) or restic's legacy form (a bare array of packs, see {@link IndexFile.legacyFormat}).
 * @param what - names the file for errors, e.g. `index 1a2b3c4d`.
 * @throws RusticError `Repository`/`DecodeError`.
 */
export function parseIndex(json: Uint8Array, what: string): IndexFile {
  const scanned = scanIndexBytes(json)
  return scanned !== undefined ? scannedIndexFile(scanned) : parseIndexJson(json, what)
}

/**
 * {@link parseIndex} without its first try, the scan of the bytes (`scanIndexBytes`): for a caller that
 * has made that scan itself. Parses the JSON text and checks it against the schema.
 * @throws RusticError `Repository`/`DecodeError`.
 */
export function parseIndexJson(json: Uint8Array, what: string): IndexFile {
  const value = parseJsonText(json, what).value
  const fast = fastIndexFromJson(value)
  if (fast !== undefined) return fast
  if (Array.isArray(value)) return { packs: validateJson(value, LegacyIndexFileSchema, what).map(packFromJson), legacyFormat: true }
  const o = validateJson(value, IndexFileSchema, what)
  const f: IndexFile = { packs: o.packs.map(packFromJson) }
  if (o.supersedes != null && o.supersedes.length > 0) f.supersedes = o.supersedes
  if (o.packs_to_delete != null && o.packs_to_delete.length > 0) f.packsToDelete = o.packs_to_delete.map(packFromJson)
  return f
}
