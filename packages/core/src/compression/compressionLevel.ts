import { RusticError } from '../error/RusticError.js'
import type { CompressionMode } from './CompressionMode.js'

/** zstd level used for `'auto'`. */
export const DEFAULT_COMPRESSION_LEVEL = 3
/** zstd level used for `'max'`. */
export const MAX_COMPRESSION_LEVEL = 19
/** Lowest zstd level (fastest). */
export const MIN_ZSTD_LEVEL = -131072
/** Highest zstd level. */
export const MAX_ZSTD_LEVEL = 22

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
