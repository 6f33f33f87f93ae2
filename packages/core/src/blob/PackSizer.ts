import { z } from 'zod'
import type { BlobType, ConfigFile } from '../repofile/index.js'
import { parseOptions } from '../util/parseOptions.js'

const MiB = 1024 * 1024

/** Default target size of tree packs (rustic_core `DEFAULT_TREE_SIZE`): 4 MiB. */
export const DEFAULT_TREE_PACK_SIZE = 4 * MiB
/** Default target size of data packs (rustic_core `DEFAULT_DATA_SIZE`): 32 MiB. */
export const DEFAULT_DATA_PACK_SIZE = 32 * MiB
/** Default grow factor (rustic_core `DEFAULT_GROW_FACTOR`): 32 · √(repo size in bytes) = 1 MiB · √(repo size in GiB). */
export const DEFAULT_PACK_GROW_FACTOR = 32
/** Default size limit of the target size (rustic_core `DEFAULT_SIZE_LIMIT` = `u32::MAX`). */
export const DEFAULT_PACK_SIZE_LIMIT = 0xffff_ffff
/** Absolute maximum target pack size (rustic_core `MAX_SIZE`): 4076 MiB, so packs with headers stay below 4 GiB. */
export const MAX_PACK_SIZE = 4076 * MiB
/** Default minimum pack size tolerated by prune, in percent of the target size (rustic_core `DEFAULT_MIN_PERCENTAGE`). */
export const DEFAULT_MIN_PACKSIZE_TOLERATE_PERCENT = 30

const u32 = z.number().int().min(0).max(0xffff_ffff)

/** Options of {@link PackSizer.forType}; each overrides the repository config's setting, with defaults. */
export const PackSizerOptionsSchema = z.object({
  /** Target size of a pack in an empty repository. */
  defaultSize: u32.min(1).optional(),
  /** Grow factor: the target grows by `growFactor · √(current total size)`. 0 = fixed size. */
  growFactor: u32.optional(),
  /** Upper bound of the target size. */
  sizeLimit: u32.min(1).optional(),
  /** Packs smaller than this percentage of the target are "too small" (prune repacks them). */
  minPercent: u32.optional(),
  /** Packs larger than this percentage of the target are "too large"; 0 = unlimited. */
  maxPercent: u32.optional(),
})

/** Options of {@link PackSizer.forType}; see {@link PackSizerOptionsSchema}. */
export type PackSizerOptions = z.input<typeof PackSizerOptionsSchema>

/** The config fields {@link PackSizer.forType} reads (a whole {@link ConfigFile} will do). */
export type PackSizeConfig = Pick<ConfigFile, 'version'> &
  Partial<
    Pick<
      ConfigFile,
      | 'treepackSize'
      | 'treepackGrowfactor'
      | 'treepackSizeLimit'
      | 'datapackSize'
      | 'datapackGrowfactor'
      | 'datapackSizeLimit'
      | 'minPacksizeToleratePercent'
      | 'maxPacksizeToleratePercent'
    >
  >

/** Integer square root (floor), exact for all safe integers. */
function isqrt(n: number): number {
  if (n <= 0) return 0
  let r = Math.floor(Math.sqrt(n))
  while (r * r > n) r--
  while ((r + 1) * (r + 1) <= n) r++
  return r
}

/**
 * rustic_core's pack sizer: the target size of new packs of one blob type is
 * `defaultSize + growFactor · ⌊√currentSize⌋`, capped by `sizeLimit` and {@link MAX_PACK_SIZE}, where
 * `currentSize` is the total size of the repository's packs of that type and grows as packs are saved.
 */
export class PackSizer {
  private constructor(
    /** Target size in an empty repository. */
    readonly defaultSize: number,
    /** Grow factor (0 = fixed size). */
    readonly growFactor: number,
    /** Upper bound of the target size. */
    readonly sizeLimit: number,
    private currentSize: number,
    /** Minimum tolerated size in percent of the target. */
    readonly minPercent: number,
    /** Maximum tolerated size in percent of the target (`Infinity` = unlimited). */
    readonly maxPercent: number,
  ) {}

  /**
   * The sizer for packs of `blobType` in a repository with `config` (rustic's `treepack_*` /
   * `datapack_*` settings, defaults 4 MiB / 32 MiB, grow factor 32, no limit) whose packs of that type
   * currently total `currentTotalSize` bytes (see {@link totalPackSize}).
   */
  static forType(
    config: PackSizeConfig,
    blobType: BlobType,
    currentTotalSize: number,
    options: PackSizerOptions = {},
  ): PackSizer {
    const o = parseOptions(PackSizerOptionsSchema, options, 'pack size options')
    const tree = blobType === 'tree'
    const defaultSize = o.defaultSize ?? (tree ? config.treepackSize : config.datapackSize) ?? (tree ? DEFAULT_TREE_PACK_SIZE : DEFAULT_DATA_PACK_SIZE)
    const growFactor = o.growFactor ?? (tree ? config.treepackGrowfactor : config.datapackGrowfactor) ?? DEFAULT_PACK_GROW_FACTOR
    const sizeLimit = o.sizeLimit ?? (tree ? config.treepackSizeLimit : config.datapackSizeLimit) ?? DEFAULT_PACK_SIZE_LIMIT
    const minPercent = o.minPercent ?? config.minPacksizeToleratePercent ?? DEFAULT_MIN_PACKSIZE_TOLERATE_PERCENT
    const maxRaw = o.maxPercent ?? config.maxPacksizeToleratePercent ?? 0
    return new PackSizer(defaultSize, growFactor, sizeLimit, Math.max(0, currentTotalSize), minPercent, maxRaw === 0 ? Infinity : maxRaw)
  }

  /** A sizer with a fixed target size (no growth), as rustic's `PackSizer::fixed`. */
  static fixed(size: number): PackSizer {
    parseOptions(z.object({ size: u32.min(1) }), { size }, 'fixed pack size')
    return new PackSizer(size, 0, size, 0, 100, 100)
  }

  /** The current total size of packs of this type that the sizer knows of. */
  get totalSize(): number {
    return this.currentSize
  }

  /** The target size of the next pack: a pack is saved once its blobs reach it. */
  targetSize(): number {
    const size = this.growFactor === 0 ? this.defaultSize : isqrt(this.currentSize) * this.growFactor + this.defaultSize
    return Math.min(size, this.sizeLimit, MAX_PACK_SIZE)
  }

  /** Records a saved pack of `n` bytes (the target grows with the repository). */
  addSize(n: number): void {
    this.currentSize += n
  }

  /** True if a pack of `size` bytes is below the tolerated minimum. */
  isTooSmall(size: number): boolean {
    return size * 100 < this.targetSize() * this.minPercent
  }

  /** True if a pack of `size` bytes is above the tolerated maximum. */
  isTooLarge(size: number): boolean {
    return size * 100 > this.targetSize() * this.maxPercent
  }

  /** True if a pack of `size` bytes is neither too small nor too large. */
  sizeOk(size: number): boolean {
    return !this.isTooSmall(size) && !this.isTooLarge(size)
  }
}
