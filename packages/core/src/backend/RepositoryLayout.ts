import { z } from 'zod'
import { isId } from '../id/Id.js'
import { FILE_TYPE_DIR, filePath, type FileType } from './FileType.js'

/** The names of the repository layouts: restic's `default` and the old `s3legacy`. */
export type LayoutName = 'default' | 's3legacy'

/** zod schema of a layout choice: a layout, or `auto` to detect it as restic 0.14 does. */
export const LayoutChoiceSchema = z.enum(['auto', 'default', 's3legacy'])

/** A layout choice: `auto` (detect), `default` or `s3legacy`. */
export type LayoutChoice = z.infer<typeof LayoutChoiceSchema>

/**
 * Where a file-system-like backend keeps each file of a repository.
 *
 * - `default`: `config`, `keys/`, `snapshots/`, `index/`, `locks/`, `data/<first two hex digits>/<id>`.
 * - `s3legacy`: `config`, `key/`, `snapshot/`, `index/`, `lock/`, `data/<id>` (no subfolders), the
 *   layout of repositories restic once wrote to S3; restic 0.14 still reads and writes it where it finds it.
 */
export interface RepositoryLayout {
  /** The layout's name. */
  readonly name: LayoutName
  /** The folder of a file type (for `config`, the file name). */
  dir(type: FileType): string
  /** Whether pack files sit in two-hex-digit subfolders of their folder. */
  readonly packSubdirs: boolean
  /** The path of a file relative to the repository root. */
  path(type: FileType, id: string): string
  /** Every folder `create()` makes, relative to the root (parents first). */
  dirs(): string[]
}

const TYPES_WITH_DIRS: readonly FileType[] = ['key', 'snapshot', 'index', 'lock', 'pack']

/** restic's default layout. */
export const DEFAULT_LAYOUT: RepositoryLayout = {
  name: 'default',
  dir: (type) => FILE_TYPE_DIR[type],
  packSubdirs: true,
  path: filePath,
  dirs: () => [
    ...TYPES_WITH_DIRS.map((t) => FILE_TYPE_DIR[t]),
    ...Array.from({ length: 256 }, (_, i) => `${FILE_TYPE_DIR.pack}/${i.toString(16).padStart(2, '0')}`),
  ],
}

const S3LEGACY_DIR: Readonly<Record<FileType, string>> = {
  config: 'config',
  index: 'index',
  key: 'key',
  snapshot: 'snapshot',
  pack: 'data',
  lock: 'lock',
}

/** The s3legacy layout (singular folder names, packs directly in `data/`). */
export const S3LEGACY_LAYOUT: RepositoryLayout = {
  name: 's3legacy',
  dir: (type) => S3LEGACY_DIR[type],
  packSubdirs: false,
  path: (type, id) => (type === 'config' ? 'config' : `${S3LEGACY_DIR[type]}/${id}`),
  dirs: () => TYPES_WITH_DIRS.map((t) => S3LEGACY_DIR[t]),
}

/** The layout of a name. */
export function layoutNamed(name: LayoutName): RepositoryLayout {
  return name === 's3legacy' ? S3LEGACY_LAYOUT : DEFAULT_LAYOUT
}

/** True if any of `names` (entries of a folder) is a repository file name (64 hex digits). */
export function hasIdName(names: Iterable<string>): boolean {
  for (const n of names) if (isId(n.toLowerCase())) return true
  return false
}

/**
 * Detects a repository's layout as restic 0.14 does (`DetectLayout`): `default` when `keys/` holds a
 * key file and `key/` none, `s3legacy` when `key/` holds one and `keys/` none, else (an empty or new
 * repository, or both) `default`.
 * @param hasIdFile - whether a folder (relative to the root, e.g. `keys`) holds a file named like an
 *   id; a missing folder holds none.
 */
export async function detectLayout(hasIdFile: (dir: string) => Promise<boolean>): Promise<RepositoryLayout> {
  const [keys, key] = await Promise.all([hasIdFile(DEFAULT_LAYOUT.dir('key')), hasIdFile(S3LEGACY_LAYOUT.dir('key'))])
  return key && !keys ? S3LEGACY_LAYOUT : DEFAULT_LAYOUT
}

/**
 * A layout chosen by name, or detected once (on first use) for `auto`: the layout of a backend that
 * supports both. Concurrent first uses share one detection; a failed detection is tried again next time.
 */
export class LayoutResolver {
  private resolved: RepositoryLayout | undefined
  private pending: Promise<RepositoryLayout> | undefined

  constructor(
    choice: LayoutChoice,
    private readonly hasIdFile: (dir: string) => Promise<boolean>,
  ) {
    if (choice !== 'auto') this.resolved = layoutNamed(choice)
  }

  /** The layout once known (chosen, or detected by an earlier {@link LayoutResolver.get}); else `undefined`. */
  get known(): RepositoryLayout | undefined {
    return this.resolved
  }

  /** The layout, detecting it on the first call for `auto`. */
  get(): Promise<RepositoryLayout> | RepositoryLayout {
    if (this.resolved) return this.resolved
    this.pending ??= detectLayout(this.hasIdFile).then(
      (l) => (this.resolved = l),
      (e: unknown) => {
        this.pending = undefined
        throw e
      },
    )
    return this.pending
  }
}
