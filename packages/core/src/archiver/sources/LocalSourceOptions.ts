import { z } from 'zod'
import type { ExtendedAttribute } from '../../repofile/Node.js'
import { parseSize } from '../../util/size.js'
import { zodParse } from '../../util/zodParse.js'
import { UserNames } from '../userNames.js'

/**
 * Reads the extended attributes of a file (path as bytes), in the order to store them; see
 * {@link LocalSourceOptionsSchema} `xattrReader`. Rejects if they cannot be read (the file is then
 * backed up without them, with a warning).
 */
export type XattrReader = (path: Buffer) => Promise<ExtendedAttribute[]>

/**
 * Options of `LocalSource`: restic's exclude options (`backup --exclude...`) and how nodes are made.
 * Patterns follow restic's rules (see `ExcludePatterns`), tested against the absolute path of each item.
 */
export const LocalSourceOptionsSchema = z.object({
  /** Exclude patterns (restic `--exclude`). */
  excludes: z.array(z.string()).default([]),
  /** Case-insensitive exclude patterns (restic `--iexclude`). */
  iexcludes: z.array(z.string()).default([]),
  /** Files of exclude patterns, one a line, `#` comments, `$VAR` expanded (restic `--exclude-file`). */
  excludeFiles: z.array(z.string()).default([]),
  /** Files of case-insensitive exclude patterns (restic `--iexclude-file`). */
  iexcludeFiles: z.array(z.string()).default([]),
  /**
   * Exclude the contents of directories holding a file of this name, `NAME[:HEADER]` where the tag file
   * must start with HEADER (restic `--exclude-if-present`); the directory and the tag file are kept.
   */
  excludeIfPresent: z.array(z.string()).default([]),
  /** Exclude the contents of directories with a valid `CACHEDIR.TAG` (restic `--exclude-caches`). */
  excludeCaches: z.boolean().default(false),
  /** Exclude files (not directories) larger than this: bytes, or a restic size like `1M` (`--exclude-larger-than`). */
  excludeLargerThan: z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      if (typeof v === 'string') return zodParse(parseSize)(v, ctx)
      if (Number.isSafeInteger(v) && v >= 0) return v
      ctx.addIssue({ code: 'custom', message: `expected a size in bytes (a whole number from 0 to ${Number.MAX_SAFE_INTEGER}), got ${v}` })
      return z.NEVER
    })
    .optional(),
  /** Do not cross file system boundaries below the source paths; mount points are kept as empty directories (`--one-file-system`). */
  oneFileSystem: z.boolean().default(false),
  /**
   * Store extended attributes (of everything but symlinks, as restic 0.14 does), read with the native
   * `@napi-rs/xattr` package: on the directory worker with its listings (`statInWorker`), else on the
   * thread pool. Where the package has no binary for the platform, none are stored (one warning).
   * Paths that are not valid UTF-8 cannot be given to the package: their items get none (a warning each).
   */
  readXattrs: z.boolean().default(true),
  /**
   * Reads an item's extended attributes when `readXattrs` is set, instead of the `@napi-rs/xattr`
   * package (called on this thread for each item but symlinks).
   */
  xattrReader: z.custom<XattrReader>((v) => typeof v === 'function').optional(),
  /** Store the access time; otherwise it is set to the modification time, as restic and rustic do by default. */
  withAtime: z.boolean().default(false),
  /** Do not store the device id (`device_id`) of items (rustic `--ignore-devid`). */
  ignoreDevid: z.boolean().default(false),
  /**
   * Store sockets. restic 0.14 skips them (newer restic and rustic store them); the default follows 0.14
   * so that the trees are byte-identical.
   */
  includeSockets: z.boolean().default(false),
  /** The directory relative source paths are taken from (default: the process's working directory). */
  cwd: z.string().optional(),
  /** Owner name lookup (default: a `UserNames` over `/etc/passwd` and `/etc/group`). */
  userNames: z.instanceof(UserNames).optional(),
  /** How many directory listings, `lstat`/`readlink` and xattr calls may run at once on this thread while walking. */
  statConcurrency: z.number().int().positive().default(32),
  /**
   * Read directories on a worker thread: one round trip lists a directory and `lstat`s (and `readlink`s)
   * its entries, much cheaper for the main thread than a call for each. Off (or without worker threads),
   * directories are listed and their entries `lstat`ed one by one on this thread.
   */
  statInWorker: z.boolean().default(true),
  /** Chunk size of file content streams, in bytes. */
  readChunkSize: z.number().int().positive().default(2 * 1024 * 1024),
  /** Called with a warning that does not skip an item (e.g. a malformed exclusion tag file). */
  onWarning: z.custom<(message: string) => void>((v) => typeof v === 'function').optional(),
})

/** Options of `LocalSource` (input form: every field optional). */
export type LocalSourceOptions = z.input<typeof LocalSourceOptionsSchema>
