import { z } from 'zod'
import { MAX_ZSTD_LEVEL, MIN_ZSTD_LEVEL } from './compressionLevel.js'

// the levels and `compressionLevel` are in a file of their own, without zod (the CLI's flags use them at start-up)
export { compressionLevel, DEFAULT_COMPRESSION_LEVEL, MAX_COMPRESSION_LEVEL, MAX_ZSTD_LEVEL, MIN_ZSTD_LEVEL } from './compressionLevel.js'

/**
 * How to compress blobs and files of a v2 repository:
 * - `'off'`: no compression;
 * - `'auto'`: zstd's default level (3), like restic's `auto`;
 * - `'max'`: zstd level 19, the highest regular level (restic's `max` is roughly zstd level 11, so this
 *   compresses at least as well, and more slowly);
 * - a number: that zstd level (-131072 … 22); `0` means off, as in rustic's config file.
 */
export type CompressionMode = 'off' | 'auto' | 'max' | number

/** zod schema of {@link CompressionMode}, without a default. */
export const CompressionChoiceSchema = z.union([z.enum(['off', 'auto', 'max']), z.number().int().min(MIN_ZSTD_LEVEL).max(MAX_ZSTD_LEVEL)], {
  error: `expected off, auto, max or a zstd level from ${MIN_ZSTD_LEVEL} to ${MAX_ZSTD_LEVEL}`,
})

/** zod schema of {@link CompressionMode}; the default is `'auto'`. */
export const CompressionModeSchema = CompressionChoiceSchema.default('auto')
