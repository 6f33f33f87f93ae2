import { lstat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { binaryBytes, goAbs, goClean, toBinary } from './goPath.js'

/** Backup source paths split into those that exist and those that do not. */
export interface ExistingPaths {
  /** Paths that exist (or whose check failed for another reason than absence: the walk reports those). */
  existing: string[]
  /** Paths that do not exist (`ENOENT`, `ENOTDIR`), as given. */
  missing: string[]
}

/**
 * Splits backup source paths (relative ones taken from `cwd`, default the working directory) into those
 * that exist and those that do not, as restic's backup does before it starts (`filterExisting`): missing
 * ones are skipped with a warning naming the whole path; none existing is an error.
 */
export async function existingPaths(paths: readonly string[], cwd?: string): Promise<ExistingPaths> {
  const base = goClean(toBinary(resolve(cwd ?? '.')))
  const result: ExistingPaths = { existing: [], missing: [] }
  const found = await Promise.all(
    paths.map((p) =>
      lstat(binaryBytes(goAbs(toBinary(p), base))).then(
        () => true,
        (e: NodeJS.ErrnoException) => !(e.code === 'ENOENT' || e.code === 'ENOTDIR'),
      ),
    ),
  )
  paths.forEach((p, i) => (found[i] ? result.existing : result.missing).push(p))
  return result
}
