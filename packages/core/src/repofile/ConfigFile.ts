import { z } from 'zod'
import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import { decodeError, IdSchema, parseJsonText, UintSchema, unknownMembers, validateJson, withExtra } from './decodeJson.js'
import { goJsonBytes } from './goJson.js'

/**
 * The repository config (`config`, sealed with the master key, never compressed). restic knows
 * `version`, `id` and `chunker_polynomial`; rustic adds the optional settings below.
 */
export interface ConfigFile {
  /** Repository version: 1 (no compression) or 2 (compression). */
  version: 1 | 2
  /** The repository id. */
  id: Id
  /** The chunker polynomial (degree 53, stored as lowercase hex without `0x`). */
  chunkerPolynomial: bigint
  /** rustic: set only in the hot part of a hot/cold repository. */
  isHot?: boolean
  /** rustic: commands that delete or rewrite refuse to run. */
  appendOnly?: boolean
  /** rustic: zstd level for v2 (`0` = no compression; unset = default). */
  compression?: number
  /** rustic: target size of tree packs (default 4 MiB). */
  treepackSize?: number
  /** rustic: growth factor of tree packs with repository size (default 32). */
  treepackGrowfactor?: number
  /** rustic: maximum target size of tree packs. */
  treepackSizeLimit?: number
  /** rustic: target size of data packs (default 32 MiB). */
  datapackSize?: number
  /** rustic: growth factor of data packs with repository size (default 32). */
  datapackGrowfactor?: number
  /** rustic: maximum target size of data packs. */
  datapackSizeLimit?: number
  /** rustic: packs smaller than this percentage of the target size are repacked by prune (default 30). */
  minPacksizeToleratePercent?: number
  /** rustic: packs larger than this percentage of the target size are repacked by prune (0/unset = unlimited). */
  maxPacksizeToleratePercent?: number
  /** rustic: decrypt/decompress written data again before uploading it (default true). */
  extraVerify?: boolean
  /** Unknown JSON members, written back verbatim after the known ones. */
  extra?: Record<string, unknown>
}

const optUint = UintSchema.optional()

/** zod schema of the config JSON (snake_case keys, as stored). */
export const ConfigFileSchema = z.object({
  version: z.number().int(),
  id: IdSchema,
  chunker_polynomial: z.string().regex(/^[0-9a-fA-F]{1,16}$/, 'expected a hex polynomial'),
  is_hot: z.boolean().nullish(),
  append_only: z.boolean().nullish(),
  compression: z.number().int().nullish(),
  treepack_size: optUint.nullable(),
  treepack_growfactor: optUint.nullable(),
  treepack_size_limit: optUint.nullable(),
  datapack_size: optUint.nullable(),
  datapack_growfactor: optUint.nullable(),
  datapack_size_limit: optUint.nullable(),
  min_packsize_tolerate_percent: optUint.nullable(),
  max_packsize_tolerate_percent: optUint.nullable(),
  extra_verify: z.boolean().nullish(),
})

const KNOWN = new Set(Object.keys(ConfigFileSchema.shape))

/** The config's JSON as restic writes it (Go JSON, no newline), rustic's fields after restic's, then `extra`. */
export function serializeConfig(c: ConfigFile): Uint8Array {
  return goJsonBytes(
    withExtra(
      {
        version: c.version,
        id: c.id,
        chunker_polynomial: c.chunkerPolynomial.toString(16),
        is_hot: c.isHot,
        append_only: c.appendOnly,
        compression: c.compression,
        treepack_size: c.treepackSize,
        treepack_growfactor: c.treepackGrowfactor,
        treepack_size_limit: c.treepackSizeLimit,
        datapack_size: c.datapackSize,
        datapack_growfactor: c.datapackGrowfactor,
        datapack_size_limit: c.datapackSizeLimit,
        min_packsize_tolerate_percent: c.minPacksizeToleratePercent,
        max_packsize_tolerate_percent: c.maxPacksizeToleratePercent,
        extra_verify: c.extraVerify,
      },
      c.extra,
    ),
  )
}

/**
 * Parses the config's JSON (the decrypted `config` file).
 * @throws RusticError `Repository`/`DecodeError` for bad JSON, `Unsupported`/`UnsupportedVersion` for a version other than 1 or 2.
 */
export function parseConfig(json: Uint8Array): ConfigFile {
  const what = 'config file'
  const { text, value } = parseJsonText(json, what)
  const o = validateJson(value, ConfigFileSchema, what)
  if (o.version !== 1 && o.version !== 2) {
    throw new RusticError(
      'Unsupported',
      `repository version ${o.version} is not supported (rustic-ts reads versions 1 and 2); use a newer rustic-ts`,
      { code: 'UnsupportedVersion' },
    )
  }
  const poly = BigInt('0x' + o.chunker_polynomial)
  if (poly === 0n) throw decodeError(what, 'the chunker polynomial is zero')
  const c: ConfigFile = { version: o.version, id: o.id, chunkerPolynomial: poly }
  if (o.is_hot != null) c.isHot = o.is_hot
  if (o.append_only != null) c.appendOnly = o.append_only
  if (o.compression != null) c.compression = o.compression
  if (o.treepack_size != null) c.treepackSize = o.treepack_size
  if (o.treepack_growfactor != null) c.treepackGrowfactor = o.treepack_growfactor
  if (o.treepack_size_limit != null) c.treepackSizeLimit = o.treepack_size_limit
  if (o.datapack_size != null) c.datapackSize = o.datapack_size
  if (o.datapack_growfactor != null) c.datapackGrowfactor = o.datapack_growfactor
  if (o.datapack_size_limit != null) c.datapackSizeLimit = o.datapack_size_limit
  if (o.min_packsize_tolerate_percent != null) c.minPacksizeToleratePercent = o.min_packsize_tolerate_percent
  if (o.max_packsize_tolerate_percent != null) c.maxPacksizeToleratePercent = o.max_packsize_tolerate_percent
  if (o.extra_verify != null) c.extraVerify = o.extra_verify
  const extra = unknownMembers(text, value as Record<string, unknown>, KNOWN)
  if (extra !== undefined) c.extra = extra
  return c
}
