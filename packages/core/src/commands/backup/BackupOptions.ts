import { z } from 'zod'
import { ArchiverOptionsSchema } from '../../archiver/ArchiverOptions.js'
import { LocalSourceOptionsSchema } from '../../archiver/sources/LocalSourceOptions.js'
import { CompressionChoiceSchema } from '../../compression/CompressionMode.js'
import { SnapshotOptionsSchema } from './SnapshotOptions.js'

/**
 * Options of `IndexedRepository.backup`, with defaults: rustic_core's `BackupOptions` (parent,
 * excludes of local sources, ...) and the new snapshot's metadata (its `SnapshotOptions`).
 */
export const BackupOptionsSchema = ArchiverOptionsSchema.extend({
  /** Parent snapshot (id, prefix, `latest`...); default: the latest with the same host, label and paths. */
  parent: z.string().optional(),
  /** Back up without a parent: read every file. */
  noParent: z.boolean().default(false),
  /** Do not save a snapshot when nothing changed since the parent. */
  skipIfUnchanged: z.boolean().default(false),
  /** Reuse packs of interrupted backups that no index names yet (lists all packs first). */
  resume: z.boolean().default(true),
  /** Do everything but write to the repository. */
  dryRun: z.boolean().default(false),
  /** Compression of new blobs (v2): `off`, `auto`, `max` or a zstd level. */
  compression: CompressionChoiceSchema.optional(),
  /** Options of a local source (local paths given): excludes, one-file-system... */
  local: LocalSourceOptionsSchema.optional(),
  /**
   * The snapshot's `paths` when backing up a custom source (default: the source's `snapshotPaths()`,
   * else none). Local paths are recorded as given.
   */
  snapshotPaths: z.array(z.string()).optional(),
}).extend(SnapshotOptionsSchema.shape)

/** Options of `IndexedRepository.backup`; see {@link BackupOptionsSchema}. */
export type BackupOptions = z.input<typeof BackupOptionsSchema>
