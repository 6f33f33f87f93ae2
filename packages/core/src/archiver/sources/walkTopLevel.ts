import type { BigIntStats } from 'node:fs'
import { lstat, stat } from 'node:fs/promises'
import { throwIfAborted } from '../../error/RusticError.js'
import { childPath, ioError, lossy, readdirBinary } from './binaryPaths.js'
import { binaryBytes, goAbs, goDir, goJoin, toBinary } from './goPath.js'
import { SKIP, type Item, type LocalWalk, type Prepared } from './LocalWalk.js'
import { buildTargetTree, resolveTargets, type TargetTree } from './TargetTree.js'

/**
 * The top of a local backup's snapshot, as restic 0.14 builds it: the source `paths` (binary strings, relative
 * ones taken from `cwd`) with their ancestors (`/a`, `/a/b` for `/a/b/src`, their metadata from `stat`),
 * sources sharing ancestors sharing them, a target holding other targets merged with its listing; each source
 * path then walked with `walk`.
 */
export async function* walkTopLevel(walk: LocalWalk, paths: readonly string[], cwd: string): AsyncGenerator<Item[]> {
  throwIfAborted(walk.signal)
  const targets = await resolveTargets(paths.map(toBinary), async (dir) => {
    const abs = goAbs(dir, cwd)
    try {
      return await readdirBinary(abs)
    } catch (e) {
      walk.onError(lossy(abs), ioError('cannot list', abs, e))
      return []
    }
  })
  yield* walkTree(walk, cwd, buildTargetTree(targets), '')
}

/** The virtual top of the snapshot: intermediate directories and the targets below them. */
async function* walkTree(w: LocalWalk, cwd: string, tree: TargetTree, path: string): AsyncGenerator<Item[]> {
  for (const name of [...tree.nodes.keys()].sort()) {
    throwIfAborted(w.signal)
    const sub = tree.nodes.get(name)!
    const parentPath = path === '' && sub.root === '/' ? '/' : path
    const shownName = lossy(name)
    const subPath = childPath(parentPath, shownName)
    if (sub.path !== undefined && sub.nodes.size === 0) {
      yield* walkTarget(w, cwd, sub.path, name, subPath)
      continue
    }
    if (sub.path !== undefined) {
      // a target holding other targets: merge its listing in (restic's unrollTree)
      const abs = goAbs(sub.path, cwd)
      let names: string[]
      try {
        names = await readdirBinary(abs)
      } catch (e) {
        w.onError(lossy(abs), ioError('cannot list', abs, e))
        continue
      }
      for (const n of names) {
        const p = goJoin(sub.path, n)
        const existing = sub.nodes.get(n)
        if (existing === undefined) sub.nodes.set(n, { nodes: new Map(), path: p })
        else if (existing.path === undefined) existing.path = p
      }
      sub.fileInfoPath ??= sub.path
      delete sub.path
    }
    const abs = goAbs(sub.fileInfoPath!, cwd)
    let st: BigIntStats
    try {
      st = await stat(binaryBytes(abs), { bigint: true })
      if (!st.isDirectory()) throw new Error('not a directory')
    } catch (e) {
      w.onError(lossy(abs), ioError('cannot stat', abs, e))
      continue
    }
    const entry = w.scan ? undefined : { path: subPath, node: await w.node({ name, shownName, abs, st }) }
    yield [{ abs, shown: lossy(abs), path: subPath, st, isDir: true, entry }]
    yield* walkTree(w, cwd, sub, subPath)
  }
}

/** A source path (a leaf of the target tree) and, for a directory, everything below it. */
async function* walkTarget(w: LocalWalk, cwd: string, target: string, name: string, path: string): AsyncGenerator<Item[]> {
  const abs = goAbs(target, cwd)
  const parent = goDir(abs)
  const f = w.filters
  let skipByTag = false
  if (f.tags.length > 0) {
    let tags = w.parentTags.get(parent)
    if (tags === undefined) {
      tags = f.presentTags(parent)
      w.parentTags.set(parent, tags)
    }
    const base = abs.slice(abs.lastIndexOf('/') + 1)
    skipByTag = (await tags).some((t) => t.nameBin !== base)
  }
  const allowedDev = f.nearestDevice(abs)
  const shown = f.patterns ? lossy(abs) : ''
  let res: Prepared
  if ((f.patterns && f.excluded(shown)) || skipByTag) {
    res = SKIP
  } else {
    let st: BigIntStats | undefined
    try {
      st = await w.limit(() => lstat(binaryBytes(abs), { bigint: true }))
    } catch (e) {
      res = { error: ioError('cannot lstat', abs, e), abs }
    }
    if (st !== undefined) {
      let parentDev: bigint | undefined
      if (allowedDev !== undefined && st.dev !== allowedDev && st.isDirectory()) {
        try {
          parentDev = (await lstat(binaryBytes(parent), { bigint: true })).dev
        } catch {
          // unknown: not a mount point below the source
        }
      }
      res = await w.admit({ abs, shown, name, shownName: lossy(name), path, st, allowedDev, parentDev, from: undefined, index: -1 })
    }
  }
  yield* w.walkFrom(res!, allowedDev)
}
