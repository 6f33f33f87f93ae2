import type { Id, WriteBackend } from '@rustic-ts/core'
import { hashPackFiles, largestFirst } from '@rustic-ts/core/internal'
import type { KeyWait } from './context.js'

/**
 * `check --read-data` on a repository of local files: while the key is derived (its last lanes on a worker, this
 * thread idle), this thread hashes pack files (`hashPackFiles`: the SHA-256 needs no key), until the key is there;
 * `check` then verifies each pack whose bytes hashed to its id, with the size listed then, without hashing it again
 * (its `hashedPacks`). The packs are listed as the repository is opened and hashed the largest first, but for the
 * `skip` largest, which `check`'s workers begin by their own headers before the index is loaded (`startHeadPacks`).
 */
export class EarlyPackHashes implements KeyWait {
  #backend: WriteBackend | undefined
  #listed: Promise<Array<[Id, number]>> | undefined
  #hashes: Promise<Map<Id, number>> = Promise.resolve(new Map())

  /** @param skip - how many of the largest packs not to hash (`check`'s verify workers). */
  constructor(private readonly skip: number) {}

  /** Lists the packs with their sizes, if the backend has local files. */
  begin(backend: WriteBackend): void {
    if (backend.localPath === undefined) return
    this.#backend = backend
    this.#listed = backend.listWithSize('pack')
    this.#listed.catch(() => {})
  }

  /** Hashes the packs until `keyThere` aborts. */
  wait(keyThere: AbortSignal): void {
    const backend = this.#backend
    const listed = this.#listed
    if (backend === undefined || listed === undefined) return
    // (a listing not done by the time the key is there is not waited for)
    const keyArrived = new Promise<undefined>((resolve) => keyThere.addEventListener('abort', () => resolve(undefined), { once: true }))
    this.#hashes = (async () => {
      const all = await Promise.race([listed, keyArrived])
      if (all === undefined) return new Map<Id, number>()
      return hashPackFiles(largestFirst(all).slice(this.skip), async (id) => backend.localPath!('pack', id, { signal: keyThere }), keyThere)
    })().catch(() => new Map<Id, number>())
  }

  /** The packs whose bytes hashed to their id, with their sizes then (empty if none were): once the key is there, at once. */
  hashes(): Promise<Map<Id, number>> {
    return this.#hashes
  }
}
