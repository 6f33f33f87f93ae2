import { realpath } from 'node:fs/promises'
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path'
import { RusticError } from '../../error/RusticError.js'
import { displayPath } from './fsPath.js'
import type { RestorePlan } from './RestorePlan.js'

/** The directory of a local repository, from its location (`local:/path`); undefined for other backends. */
export function localRepositoryPath(location: string): string | undefined {
  if (!location.startsWith('local:')) return undefined
  const path = location.slice('local:'.length)
  return path === '' ? undefined : resolve(path)
}

/** `p` with symlinks resolved as far as it exists (the missing rest appended). */
async function realPath(p: string): Promise<string> {
  try {
    return await realpath(p)
  } catch {
    const parent = dirname(p)
    return parent === p ? p : join(await realPath(parent), basename(p))
  }
}

/** True if `inner` is `outer` or lies below it. */
function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep)
}

/**
 * Refuses a restore target that is empty or missing (restic: "Please specify a directory to restore to"),
 * and, with `delete`, the root directory and any target that holds, is, or lies inside the repository
 * (whose files restore would remove as "not in the snapshot"). Throws `InvalidInput` with code
 * `UnsafeTarget` before anything is read or written.
 * @param repository - the repository's directory when it is local (see {@link localRepositoryPath}).
 */
export async function refuseUnsafeTarget(target: unknown, deleteOthers: boolean, repository: string | undefined): Promise<string> {
  if (typeof target !== 'string' || target.trim() === '') {
    throw new RusticError('InvalidInput', 'no restore target given: name the directory to restore into', { code: 'UnsafeTarget' })
  }
  if (target.includes('\0')) throw new RusticError('InvalidInput', 'the restore target contains a NUL byte', { code: 'UnsafeTarget' })
  const resolved = resolve(target)
  if (!deleteOthers) return resolved
  const real = await realPath(resolved)
  if (real === sep || resolved === sep) {
    throw new RusticError('InvalidInput', `refusing to restore with delete into ${sep}: it would remove everything the snapshot does not have`, {
      code: 'UnsafeTarget',
    })
  }
  if (repository !== undefined) {
    const repo = await realPath(repository)
    if (within(repo, real) || within(real, repo)) {
      throw new RusticError(
        'InvalidInput',
        `refusing to restore with delete into ${resolved}: it ${within(real, repo) ? 'lies inside' : 'holds'} the repository ${repository}`,
        { code: 'UnsafeTarget' },
      )
    }
  }
  return resolved
}

/**
 * Refuses a plan that would remove the repository or anything inside it (an entry of the snapshot in the
 * way of the repository's directory). Throws `InvalidInput` with code `UnsafeTarget`.
 */
export async function refuseRemovingRepository(plan: RestorePlan, repository: string | undefined): Promise<void> {
  if (repository === undefined || plan.removals.length === 0) return
  const repo = await realPath(repository)
  for (const r of plan.removals) {
    const shown = displayPath(r.fsPath)
    if (!isAbsolute(shown)) continue
    // the entry itself is removed, not what a symlink there points to
    const removed = join(await realPath(dirname(shown)), basename(shown))
    if (within(repo, removed) || within(removed, repo)) {
      throw new RusticError('InvalidInput', `refusing to restore: it would remove ${shown}, which ${within(repo, removed) ? 'holds' : 'lies inside'} the repository ${repository}`, {
        code: 'UnsafeTarget',
      })
    }
  }
}
