import { lstat } from 'node:fs/promises'
import { parseSize } from '../../util/size.js'
import { ExcludePatterns } from '../excludes/ExcludePatterns.js'
import { CACHEDIR_TAG_SPEC, hasExclusionTag, parseExclusionTag, type ExclusionTag } from '../excludes/ExclusionTag.js'
import { oneFileSystemAllows } from '../excludes/oneFileSystem.js'
import { readExcludeFile } from '../excludes/readExcludeFile.js'
import type { EntryStats } from './DirectoryListing.js'
import { binaryBytes, goAbs, goDir, toBinary } from './goPath.js'
import type { LocalSourceOptionsSchema } from './LocalSourceOptions.js'

/** An exclusion tag and its file name as a binary string. */
export type BinaryTag = ExclusionTag & { nameBin: string }

/** The options of `LocalSource` the filters take. */
type FilterOptions = Pick<
  ReturnType<typeof LocalSourceOptionsSchema.parse>,
  'excludes' | 'iexcludes' | 'excludeFiles' | 'iexcludeFiles' | 'excludeIfPresent' | 'excludeCaches' | 'excludeLargerThan' | 'oneFileSystem' | 'includeSockets' | 'onWarning'
>

/** The filters' settings that need no file read: checked when the source is made. */
export interface FilterSpec {
  tags: BinaryTag[]
  maxSize: bigint | undefined
}

/**
 * restic's exclude rules for a local walk, ready to apply: exclude patterns (exclude files read), exclusion
 * tags, the size limit, sockets, and the devices of the source paths for `oneFileSystem`.
 */
export class LocalFilters {
  /** True if there are exclude patterns (then items' paths are shown to them). */
  readonly patterns: boolean

  private constructor(
    private readonly options: FilterOptions,
    private readonly excludes: ExcludePatterns,
    private readonly iexcludes: ExcludePatterns,
    /** The exclusion tags. */
    readonly tags: readonly BinaryTag[],
    private readonly maxSize: bigint | undefined,
    /** `st_dev` of each source path (absolute, binary), for `oneFileSystem`. */
    readonly devices: Map<string, bigint> | undefined,
  ) {
    this.patterns = !excludes.isEmpty || !iexcludes.isEmpty
  }

  /**
   * Checks the options that need no file read: the patterns, tag specs and size (throws `InvalidInput`
   * for a malformed one) and returns the parsed tags and size limit.
   */
  static check(o: FilterOptions): FilterSpec {
    new ExcludePatterns(o.excludes)
    new ExcludePatterns(o.iexcludes, { ignoreCase: true })
    const specs = [...o.excludeIfPresent, ...(o.excludeCaches ? [CACHEDIR_TAG_SPEC] : [])]
    const tags = specs.map((s) => {
      const tag = parseExclusionTag(s)
      return { ...tag, nameBin: toBinary(tag.name) }
    })
    const max = o.excludeLargerThan
    return { tags, maxSize: max === undefined ? undefined : BigInt(typeof max === 'number' ? max : parseSize(max)) }
  }

  /** The filters of a walk of `paths` (binary, relative to `cwd`): reads the exclude files and the sources' devices. */
  static async load(o: FilterOptions, spec: FilterSpec, paths: readonly string[], cwd: string): Promise<LocalFilters> {
    const excludes = [...o.excludes]
    for (const f of o.excludeFiles) excludes.push(...(await readExcludeFile(f)))
    const iexcludes = [...o.iexcludes]
    for (const f of o.iexcludeFiles) iexcludes.push(...(await readExcludeFile(f)))
    let devices: Map<string, bigint> | undefined
    if (o.oneFileSystem) {
      devices = new Map()
      for (const p of paths) {
        const abs = goAbs(toBinary(p), cwd)
        try {
          devices.set(abs, (await lstat(binaryBytes(abs), { bigint: true })).dev)
        } catch {
          // a missing source is reported when it is walked
        }
      }
    }
    return new LocalFilters(o, new ExcludePatterns(excludes), new ExcludePatterns(iexcludes, { ignoreCase: true }), spec.tags, spec.maxSize, devices)
  }

  /** True if an exclude pattern matches `shown` (the item's absolute path as text). */
  excluded(shown: string): boolean {
    return this.excludes.matches(shown) || this.iexcludes.matches(shown)
  }

  /**
   * True if an item passes the filters that need its `lstat`: `oneFileSystem` (`allowedDev`: the device of
   * the nearest source path, `parentDev`: its parent directory's), the size limit, sockets.
   */
  admits(st: EntryStats, isDir: boolean, allowedDev: bigint | undefined, parentDev: bigint | undefined): boolean {
    if (allowedDev !== undefined) {
      const dev = st.dev
      if (dev !== allowedDev && (parentDev === undefined || !oneFileSystemAllows(dev, isDir, allowedDev, parentDev))) return false
    }
    if (this.maxSize !== undefined && !isDir && st.size > this.maxSize) return false
    return this.options.includeSockets || !st.isSocket()
  }

  /** The device of the source path nearest above `abs` (for `oneFileSystem`). */
  nearestDevice(abs: string): bigint | undefined {
    if (this.devices === undefined) return undefined
    for (let d = abs; ; d = goDir(d)) {
      const dev = this.devices.get(d)
      if (dev !== undefined) return dev
      if (d === goDir(d)) return undefined
    }
  }

  /** The tags present in directory `dir` (binary; `names`: its entries, if known). */
  async presentTags(dir: string, names?: ReadonlySet<string>): Promise<BinaryTag[]> {
    const present: BinaryTag[] = []
    for (const tag of this.tags) {
      if (await hasExclusionTag(binaryBytes(dir), tag, names, this.options.onWarning)) present.push(tag)
    }
    return present
  }
}
