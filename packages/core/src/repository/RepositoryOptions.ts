import { z } from 'zod'
import type { WriteBackend } from '../backend/Backend.js'
import type { KeyDeriver } from '../crypto/kdf.js'
import type { Id } from '../id/Id.js'
import { ControlSchema } from '../progress/Control.js'

/**
 * Wraps a repository's backend in a cache. `@rustic-ts/cache` provides one; `rustic-ts` plugs it in by default.
 * Called once the repository id is known.
 */
export type CacheFactory = (backend: WriteBackend, repoId: Id, cacheDir: string | undefined) => WriteBackend | Promise<WriteBackend>

/** Options for opening a repository (rustic_core's `RepositoryOptions`). Also the `[repository]` section of a config profile. */
export const RepositoryOptionsSchema = z.object({
  /** Cache directory; default `$XDG_CACHE_HOME/rustic-ts/<repo-id>`. */
  cacheDir: z.string().optional(),
  /** Do not use a cache. */
  noCache: z.boolean().default(false),
  /** Warm up needed packs (cold storage) before reading them. */
  warmUp: z.boolean().default(false),
  /** Command to warm up packs: `%id`/`%path` (one call per pack) or `%ids`/`%paths` (batches). */
  warmUpCommand: z.string().optional(),
  /** Packs per warm-up command run (`%ids`/`%paths`), or warm-ups at once (`%id`/`%path`). */
  warmUpBatch: z.number().int().positive().optional(),
  /** How long to wait after warming up, in milliseconds. */
  warmUpWaitMs: z.number().int().nonnegative().optional(),
  /** Command to run (and wait for) after warming up instead of a fixed wait. */
  warmUpWaitCommand: z.string().optional(),
  /** Files read and written at once. */
  concurrency: z.number().int().positive().default(8),
  /** Wraps the backend in a cache (see {@link CacheFactory}). */
  cache: z.custom<CacheFactory>((v) => v === undefined || typeof v === 'function').optional(),
  /**
   * Take restic's locks (default true): shared for backup and reads, exclusive for commands that
   * delete. Turn off only for repositories no restic client uses.
   */
  lock: z.boolean().default(true),
  /** How long to wait for another client's conflicting lock, in milliseconds (restic's `--retry-lock`); default 0: fail at once. */
  retryLockMs: z.number().int().nonnegative().default(0),
  /**
   * Derives the user key of each key file tried with the password (default scrypt). The CLI passes one that
   * reuses the derivation it started before loading its program; any other must give scrypt's key.
   */
  keyDeriver: z.custom<KeyDeriver>((v) => v === undefined || typeof v === 'function').optional(),
  /** Creates progress indicators: the default of every command's `control.progress`. */
  progress: ControlSchema.shape.progress,
  /** Receives warnings: the default of every command's `control.onWarning`. */
  onWarning: ControlSchema.shape.onWarning,
})

/** Options for opening a repository; see {@link RepositoryOptionsSchema} for defaults. */
export type RepositoryOptions = z.input<typeof RepositoryOptionsSchema>

/** The backends a repository lives on: the repository itself and an optional hot repository (rustic's hot/cold split). */
export interface RepositoryBackends {
  /** The (cold) repository. */
  repository: WriteBackend
  /** The hot repository: everything but data packs, for fast metadata access. */
  repoHot?: WriteBackend
}
