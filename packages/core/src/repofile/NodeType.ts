/** The kind of a node in a restic tree, as stored in its `type` field. */
export type NodeType = 'file' | 'dir' | 'symlink' | 'dev' | 'chardev' | 'fifo' | 'socket'

/** Every {@link NodeType}, in restic's order. */
export const NODE_TYPES: readonly NodeType[] = ['file', 'dir', 'symlink', 'dev', 'chardev', 'fifo', 'socket']

/** True if `s` is a valid {@link NodeType}. */
export function isNodeType(s: string): s is NodeType {
  return (NODE_TYPES as readonly string[]).includes(s)
}
