import { z } from 'zod'
import { MAX_PACK_SIZE } from '../../blob/PackSizer.js'
import { MAX_ZSTD_LEVEL, MIN_ZSTD_LEVEL } from '../../compression/index.js'
import { RusticError } from '../../error/RusticError.js'
import type { ConfigFile } from '../../repofile/index.js'

const size = z.number().int().min(1).max(MAX_PACK_SIZE)
const u32 = z.number().int().min(0).max(0xffff_ffff)

/**
 * Changes to a repository's config (rustic's `ConfigOptions`; CLI `config --set-...`). Unset fields
 * leave the config as it is.
 */
export const ConfigOptionsSchema = z.object({
  /** Repository version: 2 upgrades a version 1 repository (restic's `migrate upgrade_repo_v2`); no downgrades. */
  setVersion: z.number().int().optional(),
  /** zstd level for new data in a version 2 repository (`0` = no compression); version 1 allows only 0. */
  setCompression: z.number().int().min(MIN_ZSTD_LEVEL).max(MAX_ZSTD_LEVEL).optional(),
  /** Mark the repository append-only: rustic-ts refuses commands that remove or rewrite files. */
  setAppendOnly: z.boolean().optional(),
  /** Target size of tree packs in an empty repository, in bytes. */
  setTreepackSize: size.optional(),
  /** Growth of tree packs with the repository's size (0 = fixed size). */
  setTreepackGrowfactor: u32.optional(),
  /** Upper bound of the tree pack target size, in bytes. */
  setTreepackSizeLimit: size.optional(),
  /** Target size of data packs in an empty repository, in bytes. */
  setDatapackSize: size.optional(),
  /** Growth of data packs with the repository's size (0 = fixed size). */
  setDatapackGrowfactor: u32.optional(),
  /** Upper bound of the data pack target size, in bytes. */
  setDatapackSizeLimit: size.optional(),
  /** Prune repacks packs smaller than this percentage of the target size (0-100). */
  setMinPacksizeToleratePercent: z.number().int().min(0).max(100).optional(),
  /** Prune repacks packs larger than this percentage of the target size (0 = no limit, else at least 100). */
  setMaxPacksizeToleratePercent: u32
    .refine((p) => p === 0 || p >= 100, { message: 'expected 0 (no limit) or at least 100' })
    .optional(),
  /** Open every sealed blob again and compare it with its plaintext before packing. */
  setExtraVerify: z.boolean().optional(),
})

/** Changes to a repository's config; see {@link ConfigOptionsSchema}. */
export type ConfigOptions = z.input<typeof ConfigOptionsSchema>

/**
 * The config with the changes applied (the given one is not modified). Version first, so that
 * `setVersion: 2` with `setCompression` works on a version 1 repository.
 * @throws RusticError `UnsupportedVersion` for a version other than 1 or 2 or a downgrade;
 *   `InvalidCompression` for compression in a version 1 repository.
 */
export function applyConfigOptions(config: ConfigFile, o: z.output<typeof ConfigOptionsSchema>): ConfigFile {
  const next: ConfigFile = { ...config }
  if (o.setVersion !== undefined) {
    if (o.setVersion !== 1 && o.setVersion !== 2) {
      throw new RusticError('Unsupported', `repository version ${o.setVersion} is not supported: use 1 or 2`, { code: 'UnsupportedVersion' })
    }
    if (o.setVersion < config.version) {
      throw new RusticError('Unsupported', `cannot downgrade the repository from version ${config.version} to ${o.setVersion}`, {
        code: 'UnsupportedVersion',
      })
    }
    next.version = o.setVersion
  }
  if (o.setCompression !== undefined) {
    if (next.version === 1 && o.setCompression !== 0) {
      throw new RusticError(
        'Unsupported',
        `compression level ${o.setCompression} needs a version 2 repository: this one is version 1 (upgrade it with set-version 2)`,
        { code: 'InvalidCompression' },
      )
    }
    next.compression = o.setCompression
  }
  if (o.setAppendOnly !== undefined) next.appendOnly = o.setAppendOnly
  if (o.setTreepackSize !== undefined) next.treepackSize = o.setTreepackSize
  if (o.setTreepackGrowfactor !== undefined) next.treepackGrowfactor = o.setTreepackGrowfactor
  if (o.setTreepackSizeLimit !== undefined) next.treepackSizeLimit = o.setTreepackSizeLimit
  if (o.setDatapackSize !== undefined) next.datapackSize = o.setDatapackSize
  if (o.setDatapackGrowfactor !== undefined) next.datapackGrowfactor = o.setDatapackGrowfactor
  if (o.setDatapackSizeLimit !== undefined) next.datapackSizeLimit = o.setDatapackSizeLimit
  if (o.setMinPacksizeToleratePercent !== undefined) next.minPacksizeToleratePercent = o.setMinPacksizeToleratePercent
  if (o.setMaxPacksizeToleratePercent !== undefined) next.maxPacksizeToleratePercent = o.setMaxPacksizeToleratePercent
  if (o.setExtraVerify !== undefined) next.extraVerify = o.setExtraVerify
  return next
}
