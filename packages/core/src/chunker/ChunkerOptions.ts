import { z } from 'zod'
import { parseOptions } from '../util/parseOptions.js'
import { WINDOW_SIZE } from './ChunkerTables.js'

/** restic's minimum chunk size: 512 KiB. */
export const DEFAULT_MIN_CHUNK_SIZE = 512 * 1024
/** restic's maximum chunk size: 8 MiB. */
export const DEFAULT_MAX_CHUNK_SIZE = 8 * 1024 * 1024
/** restic's default number of mask bits: 20, i.e. 1 MiB average chunks (plus the minimum). */
export const DEFAULT_AVERAGE_BITS = 20

/**
 * Chunk size settings, with restic's defaults. A repository whose chunks should deduplicate with
 * restic's must keep them.
 */
export const ChunkerOptionsSchema = z
  .object({
    /** Minimum chunk size in bytes (default 512 KiB; at least 64, the window size). */
    minSize: z.number().int().min(WINDOW_SIZE).max(2 ** 40).default(DEFAULT_MIN_CHUNK_SIZE),
    /** Maximum chunk size in bytes (default 8 MiB; at least `minSize`). */
    maxSize: z.number().int().min(WINDOW_SIZE).max(2 ** 40).default(DEFAULT_MAX_CHUNK_SIZE),
    /** A cut is made where the fingerprint's low `averageBits` bits are 0 (default 20: ~1 MiB average). */
    averageBits: z.number().int().min(0).max(53).default(DEFAULT_AVERAGE_BITS),
    /**
     * Which implementation of the hot loop to run (the cuts are the same): `'wasm'`, a small built-in
     * WebAssembly module (fastest; needs a polynomial of degree ≥ 16); `'js'`, plain JavaScript (for
     * runtimes without WebAssembly, e.g. `node --jitless`); `'auto'` (default), WebAssembly where it can.
     */
    engine: z.enum(['auto', 'wasm', 'js']).default('auto'),
  })
  .refine((o) => o.maxSize >= o.minSize, { message: 'maxSize must be at least minSize', path: ['maxSize'] })

/** Chunk size settings; see {@link ChunkerOptionsSchema}. */
export type ChunkerOptions = z.input<typeof ChunkerOptionsSchema>

/** {@link ChunkerOptions} with every default filled in. */
export type ResolvedChunkerOptions = z.output<typeof ChunkerOptionsSchema>

/** Validates `options` and fills in the defaults; throws an `InvalidOptions` error naming the bad option. */
export function resolveChunkerOptions(options: ChunkerOptions = {}): ResolvedChunkerOptions {
  return parseOptions(ChunkerOptionsSchema, options, 'chunker options')
}
