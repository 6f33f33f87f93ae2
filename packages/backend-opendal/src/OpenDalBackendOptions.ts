import { z } from 'zod'
import { LayoutChoiceSchema } from '@rustic-ts/core'

/**
 * zod schema of {@link OpenDalBackendOptions}, with defaults.
 * `retries` and `concurrency` may also come from the service options as `retry` (`off`, `default` or a
 * number) and `connections`, as in rustic; values given here win.
 */
export const OpenDalBackendOptionsSchema = z.object({
  /** How often opendal's `RetryLayer` retries a temporary error (0 = no retry layer). Default 3. */
  retries: z.number().int().min(0).max(100).default(3),
  /** First retry delay in ms (doubles each time, with jitter). Default 500. */
  retryMinDelayMs: z.number().int().min(0).max(3_600_000).default(500),
  /** Largest retry delay in ms. Default 30 000. */
  retryMaxDelayMs: z.number().int().min(0).max(3_600_000).default(30_000),
  /** Most opendal calls in flight at once (p-limit over calls). Default 32. */
  concurrency: z.number().int().min(1).max(1024).default(32),
  /**
   * The repository layout: `auto` (default) detects it on first use as restic 0.14 does (`s3legacy` when
   * `key/` holds a key file and `keys/` none, else `default`). May also come from the service option `layout`.
   */
  layout: LayoutChoiceSchema.default('auto'),
})

/** Options of {@link OpenDalBackend} besides the opendal service options (all optional). */
export type OpenDalBackendOptions = z.input<typeof OpenDalBackendOptionsSchema>

/** {@link OpenDalBackendOptions} with defaults applied. */
export type ResolvedOpenDalBackendOptions = z.output<typeof OpenDalBackendOptionsSchema>
