/**
 * Runs tasks one at a time per key (tasks of different keys run concurrently). The server serialises
 * uploads of the same file with it, so that "does it exist?" and "store it" cannot interleave.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>()

  /** Runs `task` once every earlier task of `key` has settled; resolves or rejects as `task` does. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    const tail = before.then(() => mine)
    this.tails.set(key, tail)
    await before
    try {
      return await task()
    } finally {
      release()
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}
