import { z } from 'zod'
import { RusticError } from '../error/RusticError.js'

/**
 * How to compress blobs and files of a v2 repository:
 * - `'off'`: no compression;
 * - `'auto'`: zstd's default level (3), like restic's `auto`;
 * - `'max'`: zstd level 19, the highest regular level (restic's `max` is roughly zstd level 11, so this
 *   compresses at least as well, and more slowly);
 * - a number: that zstd level (-131072 … 22); `0` means off, as in rustic's config file.
 */
export type CompressionMode = 'off' | 'auto' | 'max' | number

/** zstd level used for `'auto'`. */
export const DEFAULT_COMPRESSION_LEVEL = 3
/** zstd level used for `'max'`. */
export const MAX_COMPRESSION_LEVEL = 19
/** Lowest zstd level (fastest). */
export const MIN_ZSTD_LEVEL = -131072
/** Highest zstd level. */
export const MAX_ZSTD_LEVEL = 22

/** zod schema of {@link CompressionMode}, without a default. */
export const CompressionChoiceSchema = z.union([z.enum(['off', 'auto', 'max']), z.number().int().min(MIN_ZSTD_LEVEL).max(MAX_ZSTD_LEVEL)], {
  error: `expected off, auto, max or a zstd level from ${MIN_ZSTD_LEVEL} to ${MAX_ZSTD_LEVEL}`,
})

/** zod schema of {@link CompressionMode}; the default is `'auto'`. */
export const CompressionModeSchema = CompressionChoiceSchema.default('auto')

/**
 * The zstd level for a {@link CompressionMode}, or `undefined` for no compression.
 * @throws RusticError `InvalidInput` for an unknown mode or a level out of range.
 */
export function compressionLevel(mode: CompressionMode): number | undefined {
  switch (mode) {
    case 'off':
      return undefined
    case 'auto':
      return DEFAULT_COMPRESSION_LEVEL
    case 'max':
      return MAX_COMPRESSION_LEVEL
    default:
      if (typeof mode === 'number' && Number.isInteger(mode) && mode >= MIN_ZSTD_LEVEL && mode <= MAX_ZSTD_LEVEL) {
        return mode === 0 ? undefined : mode
      }
      throw new RusticError(
        'InvalidInput',
        `invalid compression "${String(mode)}": use off, auto, max or a zstd level from ${MIN_ZSTD_LEVEL} to ${MAX_ZSTD_LEVEL}`,
        { code: 'InvalidCompression' },
      )
  }
}
