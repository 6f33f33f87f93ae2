import { RusticError } from '@rustic-ts/core'
import { compressionLevel, parseSize, type CompressionMode } from '@rustic-ts/core/internal'

/** The message of an error, without the `invalid <what> "<value>": ` prefix a parser puts in front. */
function reason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e)
  const colon = m.indexOf('": ')
  return colon >= 0 ? m.slice(colon + 3) : m
}

/** The error of a bad flag value: `invalid --flag "value": why` (code `InvalidOptions`). */
export function badFlag(flag: string, value: string, why: string): RusticError {
  return new RusticError('InvalidInput', `invalid ${flag} ${JSON.stringify(value)}: ${why}`, { code: 'InvalidOptions' })
}

/** `--compression`: `off`, `auto`, `max` or a zstd level. */
export function compressionFlag(value: string): CompressionMode {
  const mode: CompressionMode = /^\s*-?\d+\s*$/.test(value) ? Number(value) : (value as CompressionMode)
  try {
    compressionLevel(mode)
  } catch (e) {
    throw badFlag('--compression', value, reason(e))
  }
  return mode
}

/** A size flag such as `--exclude-larger-than 1G`, in bytes. */
export function sizeFlag(flag: string, value: string): number {
  try {
    return parseSize(value)
  } catch (e) {
    throw badFlag(flag, value, reason(e))
  }
}
