import type { Id } from '../id/Id.js'
import type { Node } from '../repofile/index.js'

/** A directory node standing for a snapshot's root tree (to walk or list a whole snapshot). */
export function rootNode(treeId: Id): Node {
  return {
    name: '',
    type: 'dir',
    mode: 0o755,
    mtime: '',
    atime: '',
    ctime: '',
    uid: 0,
    gid: 0,
    content: null,
    subtree: treeId,
  }
}
