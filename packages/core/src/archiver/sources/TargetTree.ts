import { RusticError } from '../../error/RusticError.js'
import { goClean, goJoin, pathComponents, rootDirectory } from './goPath.js'

/**
 * restic 0.14's archiver `Tree`: how the backup targets map into the snapshot's tree. All paths and
 * names are binary strings (see `goPath.ts`).
 *
 * A node with `path` set is a leaf: the file or directory at `path` goes there (with its contents).
 * A node without it is an intermediate directory: only its metadata is taken, from `fileInfoPath`
 * (`stat`, following symlinks), and its children are the nodes below. A leaf with children (a target
 * inside another target) is merged with the directory listing of `path` when it is walked, as restic's
 * `unrollTree` does.
 */
export interface TargetTree {
  /** The children, by name. */
  nodes: Map<string, TargetTree>
  /** For a leaf: the target path (cleaned, relative to the working directory or absolute). */
  path?: string
  /** For an intermediate directory: the path whose metadata it gets. */
  fileInfoPath?: string
  /** The directory containing the first element of the target (`/`, `.`, `..`, ...), to tell apart equal names. */
  root?: string
}

/** An empty target tree. */
export function emptyTargetTree(): TargetTree {
  return { nodes: new Map() }
}

function addBelow(tree: TargetTree, target: string, root: string, pc: string[]): void {
  const name = pc[0]!
  if (pc.length === 1) {
    const existing = tree.nodes.get(name)
    if (existing === undefined) tree.nodes.set(name, { nodes: new Map(), path: target })
    else if (existing.path === undefined) existing.path = target
    // restic fails on a duplicate here ("path is already set"); duplicates were removed before.
    return
  }
  let sub = tree.nodes.get(name)
  if (sub === undefined) {
    sub = { nodes: new Map() }
    tree.nodes.set(name, sub)
  }
  const subroot = goJoin(root, name)
  sub.fileInfoPath = subroot
  addBelow(sub, target, subroot, pc.slice(1))
}

/**
 * Adds a cleaned target to the top level of `tree`, as restic's `Tree.Add`: the first path element
 * becomes a top-level name; a name already taken by a target from another root directory (e.g. `x`
 * and `../y/x`... or `/tmp` and `tmp`) gets a suffix `-1`, `-2`, ...
 */
export function addTarget(tree: TargetTree, target: string): void {
  const pc = pathComponents(target, false)
  if (pc.length === 0) throw new RusticError('InvalidInput', `invalid backup path ${JSON.stringify(target)} (no path components)`)
  const origName = pc[0]!
  const root = rootDirectory(target)
  let name = origName
  let node: TargetTree = { nodes: new Map(), root }
  for (let i = 0; ; ) {
    const other = tree.nodes.get(name)
    if (other === undefined) break
    i++
    if (other.root === root) {
      node = other
      break
    }
    name = `${origName}-${i}`
  }
  if (pc.length > 1) {
    const subroot = goJoin(root, origName)
    addBelow(node, target, subroot, pc.slice(1))
    node.fileInfoPath = subroot
  } else {
    node.path = target
  }
  tree.nodes.set(name, node)
}

/**
 * restic's `resolveRelativeTargets`: targets are cleaned, and one that names no element of its own
 * (`.`, `..`, `/`) is replaced by its directory entries (`listDir` returns their names).
 */
export async function resolveTargets(targets: string[], listDir: (dir: string) => Promise<string[]>): Promise<string[]> {
  const out: string[] = []
  for (let target of targets) {
    target = goClean(target)
    if (pathComponents(target, false).length > 0) {
      out.push(target)
      continue
    }
    const names = (await listDir(target)).sort()
    for (const name of names) out.push(goJoin(target, name))
  }
  return out
}

/** restic's `NewTree` (without unrolling): the target tree of cleaned, resolved targets, duplicates dropped. */
export function buildTargetTree(targets: string[]): TargetTree {
  const tree = emptyTargetTree()
  const seen = new Set<string>()
  for (let target of targets) {
    target = goClean(target)
    if (seen.has(target)) continue
    seen.add(target)
    addTarget(tree, target)
  }
  return tree
}
