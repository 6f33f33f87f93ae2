import { LocalBackend } from '@rustic-ts/backend-local'
import { LocalRepositoryStore } from './LocalRepositoryStore.js'
import { RepositoryStore } from './RepositoryStore.js'
import type { RepositoryResolver } from './RestServerOptions.js'

/**
 * The repositories a server has reached, by path: each resolved once (concurrent first requests share
 * the lookup; a failed lookup is tried again next time) and kept until {@link RepositoryStores.close}.
 */
export class RepositoryStores {
  private readonly stores = new Map<string, Promise<RepositoryStore | undefined>>()

  /**
   * @param resolve - gives the backend of a repository path.
   * @param ownsBackends - whether `close()` closes the backends (false for a backend the caller passed in).
   */
  constructor(
    private readonly resolve: RepositoryResolver,
    private readonly ownsBackends: boolean,
  ) {}

  /** The store of the repository at `path`, or undefined if the resolver has none. */
  get(path: readonly string[]): Promise<RepositoryStore | undefined> {
    const name = path.join('/')
    let p = this.stores.get(name)
    if (p === undefined) {
      p = (async () => {
        const backend = await this.resolve(path)
        if (backend === undefined) return undefined
        return backend instanceof LocalBackend ? new LocalRepositoryStore(backend, name) : new RepositoryStore(backend, name)
      })()
      p.catch(() => this.stores.delete(name))
      this.stores.set(name, p)
    }
    return p
  }

  /** Closes the backends (if owned) and forgets them. */
  async close(): Promise<void> {
    const all = [...this.stores.values()]
    this.stores.clear()
    if (!this.ownsBackends) return
    await Promise.allSettled(all.map(async (p) => (await p)?.close()))
  }
}
