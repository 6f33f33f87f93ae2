import { z } from 'zod'
import { RusticError } from '../error/RusticError.js'
import { WINDOW_SIZE } from './ChunkerTables.js'

/** restic's minimum chunk size: 512 KiB. */
export const DEFAULT_MIN_CHUNK_SIZE = 512 * 1024
/** restic's maximum chunk size: 8 MiB. */
export const DEFAULT_MAX_CHUNK_SIZE = 8 * 1024 * 1024
/** restic's default number of mask bits: 20, i.e. 1 MiB average chunks (plus the minimum). */
export const DEFAULT_AVERAGE_BITS = 20

/** zod schema of {@link ChunkerOptions}, with restic's defaults. */
export const chunkerOptionsSchema = z
  .object({
    minSize: z.number().int().min(WINDOW_SIZE).max(2 ** 40).default(DEFAULT_MIN_CHUNK_SIZE),
    maxSize: z.number().int().min(WINDOW_SIZE).max(2 ** 40).default(DEFAULT_MAX_CHUNK_SIZE),
    averageBits: z.number().int().min(0).max(53).default(DEFAULT_AVERAGE_BITS),
    engine: z.enum(['auto', 'wasm', 'js']).default('auto'),
  })
  .refine((o) => o.maxSize >= o.minSize, { message: 'maxSize must be at least minSize', path: ['maxSize'] })

/**
 * Chunk size settings. The defaults are restic's; a repository whose chunks should deduplicate with
 * restic's must keep them.
 */
export interface ChunkerOptions {
  /** Minimum chunk size in bytes (default 512 KiB; at least 64, the window size). */
  minSize?: number
  /** Maximum chunk size in bytes (default 8 MiB; at least `minSize`). */
  maxSize?: number
  /** A cut is made where the fingerprint's low `averageBits` bits are 0 (default 20: ~1 MiB average). */
  averageBits?: number
  /**
   * Which implementation of the hot loop to run (the cuts are the same): `'wasm'`, a small built-in
   * WebAssembly module (fastest; needs a polynomial of degree ≥ 16); `'js'`, plain JavaScript (for
   * runtimes without WebAssembly, e.g. `node --jitless`); `'auto'` (default), WebAssembly where it can.
   */
  engine?: 'auto' | 'wasm' | 'js'
}

/** {@link ChunkerOptions} with every default filled in. */
export type ResolvedChunkerOptions = Required<ChunkerOptions>

/** Validates `options` and fills in the defaults; throws an `InvalidInput` error naming the bad option. */
export function resolveChunkerOptions(options: ChunkerOptions = {}): ResolvedChunkerOptions {
  const parsed = chunkerOptionsSchema.safeParse(options)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.join('.') || 'options'
    throw new RusticError('InvalidInput', `invalid chunker option ${where}: ${issue?.message ?? 'invalid'}`, {
      code: 'InvalidOptions',
      cause: parsed.error,
    })
  }
  return parsed.data
}
