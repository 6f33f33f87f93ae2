import { availableParallelism } from 'node:os'
import { z } from 'zod'

/** How the archiver decides what to read (rustic_core's parent options). */
export const ArchiverOptionsSchema = z.object({
  /** Read every file, even when the parent snapshot says it is unchanged. */
  force: z.boolean().default(false),
  /** Ignore ctime when comparing with the parent. */
  ignoreCtime: z.boolean().default(false),
  /** Ignore the inode number when comparing with the parent. */
  ignoreInode: z.boolean().default(false),
  /** Files read and chunked at once. */
  readConcurrency: z.number().int().positive().default(4),
  /** Worker threads that compress and encrypt blobs (0: on the main thread). Default: the number of cores, at most 8. */
  sealWorkers: z.number().int().nonnegative().default(Math.min(8, availableParallelism())),
})

/** Options of the archiver; see {@link ArchiverOptionsSchema} for defaults. */
export type ArchiverOptions = z.input<typeof ArchiverOptionsSchema>
