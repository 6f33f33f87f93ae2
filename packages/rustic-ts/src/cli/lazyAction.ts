/**
 * A commander action that loads its implementation when the command runs: `rustic-ts cat config` then
 * compiles and evaluates only the code `cat` needs, not that of backup, prune, check or copy.
 */
export function lazyAction<A extends unknown[]>(load: () => Promise<(...args: A) => Promise<unknown>>): (...args: A) => Promise<void> {
  return async (...args) => {
    await (await load())(...args)
  }
}
