/**
 * The reason in a Node file system error, for a message that names the path itself: Node's message without the
 * `, <syscall> '<path>'` it ends with (`ENOTDIR: not a directory`, not `ENOTDIR: not a directory, stat '/a/b'`).
 * A message that names a second path (`link 'a' -> 'b'`), or any other error's, is given as it is.
 */
export function fsErrorReason(e: unknown): string {
  if (!(e instanceof Error)) return String(e)
  const { syscall, path, dest } = e as NodeJS.ErrnoException & { dest?: unknown }
  if (typeof syscall === 'string' && typeof path === 'string' && dest === undefined) {
    const suffix = `, ${syscall} '${path}'`
    if (e.message.endsWith(suffix)) return e.message.slice(0, -suffix.length)
  }
  return e.message
}
