import { stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { RusticError } from '../../error/RusticError.js'
import type { Node } from '../../repofile/index.js'
import type { IndexedRepository } from '../../repository/IndexedRepository.js'
import type { Control } from '../../progress/Control.js'
import { parseOptions } from '../../util/parseOptions.js'
import { checkNodeName, joinFsPath } from './fsPath.js'
import { localRepositoryPath, refuseRemovingRepository, refuseUnsafeTarget } from './refuseUnsafeTarget.js'
import { RestoreOptionsSchema, type RestoreOptions } from './RestoreOptions.js'
import type { RestorePlan } from './RestorePlan.js'
import { lstatIfAny, RestorePlanner } from './RestorePlanner.js'
import { restoreIoError } from './restoreIoError.js'

/**
 * Works out what restoring `node` (a directory: its contents; anything else: that one entry) into
 * `target` will do, without writing anything (rustic_core's `prepare_restore`): which entries are
 * created, modified in place, left alone or removed, which blobs are read from which packs (each pack
 * once, neighbouring blobs merged into one ranged read) and written where.
 *
 * An existing file with the snapshot's size and mtime is left alone (with `verifyExisting` it is hashed
 * first); any other existing file is hashed blob by blob and only the differing blobs are rewritten.
 * With `delete`, target entries the snapshot does not have are removed. A tree entry with an unsafe name
 * (`/`, `..`, NUL) fails the plan with `UnsafeName` before anything is written.
 *
 * Unsafe targets are refused with `UnsafeTarget`: an empty or missing one, and with `delete` the root
 * directory or a directory holding, being or inside the (local) repository; so is a plan that would remove
 * the repository. When restore creates the target for a directory node that is not the snapshot's root (a
 * sub-path, `SNAP:/home/me`), the target gets that directory's mode, times and ownership.
 *
 * @param target - the directory to restore into (created if missing); for a non-directory node, a
 *   directory to put it in or the path to restore it as.
 */
export async function planRestore(
  indexed: IndexedRepository,
  node: Node,
  target: string,
  options: RestoreOptions = {},
  control: Control = {},
): Promise<RestorePlan> {
  const opts = parseOptions(RestoreOptionsSchema, options, 'restore options')
  const repository = localRepositoryPath(indexed.repo.location())
  const targetPath = await refuseUnsafeTarget(target, opts.delete, repository)
  const targetStat = await stat(targetPath).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException)?.code === 'ENOENT') return undefined
    throw restoreIoError(e, 'stat', targetPath)
  })
  if (node.type === 'dir') {
    if (targetStat && !targetStat.isDirectory()) {
      throw new RusticError('InvalidInput', `restore target ${targetPath} exists and is not a directory`, { code: 'NotADirectory' })
    }
    const planner = new RestorePlanner(indexed, opts, indexed.repo.control(control), targetPath)
    await planner.planDir(-1, node.subtree, '', targetPath, targetStat !== undefined)
    const plan = await planner.finish(targetPath, true, !targetStat)
    // a sub-path's directory node (the snapshot's root has no node of its own: it has no name)
    if (node.name !== '' && plan.createTarget) plan.targetNode = node
    await refuseRemovingRepository(plan, repository)
    return plan
  }
  // a single entry: into the target directory, or as the target path
  checkNodeName(node, '')
  const intoDir = targetStat?.isDirectory() ?? false
  const planTarget = intoDir ? targetPath : dirname(targetPath)
  const fsp = intoDir ? joinFsPath(targetPath, node) : targetPath
  const parent = intoDir ? targetStat : await stat(planTarget).catch(() => undefined)
  if (parent && !parent.isDirectory()) {
    throw new RusticError('InvalidInput', `restore target ${planTarget} exists and is not a directory`, { code: 'NotADirectory' })
  }
  const lst = await lstatIfAny(fsp)
  const rel = `/${intoDir ? node.name : basename(targetPath)}`
  const planner = new RestorePlanner(indexed, opts, indexed.repo.control(control), planTarget)
  if (planner.isSelected(rel)) await planner.planLeaf(-1, node, rel, fsp, lst, intoDir ? undefined : { path: rel, fsPath: fsp })
  const plan = await planner.finish(planTarget, false, !parent)
  await refuseRemovingRepository(plan, repository)
  return plan
}
