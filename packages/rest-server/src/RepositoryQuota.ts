import { ALL_FILE_TYPES } from '@rustic-ts/core'
import type { RepositoryStore } from './RepositoryStore.js'

/** Bytes of one upload counted against a repository's quota (see {@link RepositoryQuota.open}). */
export interface QuotaTicket {
  /** Counts `n` more bytes; false (counting nothing) if they would exceed the quota. */
  add(n: number): boolean
  /** The upload was stored: its bytes stay counted. */
  commit(): void
  /** The upload failed: its bytes are no longer counted. */
  release(): void
}

interface Usage {
  /** Bytes of stored files, or undefined while unknown (not yet tallied, or after a removal of unknown size). */
  used: number | undefined
  /** Bytes of uploads in progress. */
  reserved: number
  tally: Promise<number> | undefined
}

/**
 * The `--max-size` quota, per repository: the bytes of its files plus the uploads in progress may not
 * exceed `maxSize`. The usage is tallied from the storage's listings when first needed and kept up to
 * date from then on; a removal whose size cannot be learnt cheaply makes the next upload tally again.
 */
export class RepositoryQuota {
  private readonly usage = new Map<string, Usage>()

  /** @param maxSize - bytes allowed per repository. */
  constructor(readonly maxSize: number) {}

  /** Starts counting an upload into the repository of `store`. */
  async open(store: RepositoryStore, signal: AbortSignal): Promise<QuotaTicket> {
    const u = this.entry(store.name)
    while (u.used === undefined) {
      u.tally ??= tally(store, signal).finally(() => {
        u.tally = undefined
      })
      const t = u.tally
      const total = await t
      if (u.used === undefined) u.used = total
    }
    let mine = 0
    let open = true
    return {
      add: (n) => {
        if ((u.used ?? 0) + u.reserved + n > this.maxSize) return false
        u.reserved += n
        mine += n
        return true
      },
      commit: () => {
        if (!open) return
        open = false
        u.reserved -= mine
        if (u.used !== undefined) u.used += mine
      },
      release: () => {
        if (!open) return
        open = false
        u.reserved -= mine
      },
    }
  }

  /** A file of `size` bytes (undefined: unknown) was removed from the repository of `store`. */
  removed(store: RepositoryStore, size: number | undefined): void {
    const u = this.entry(store.name)
    if (u.used === undefined) return
    u.used = size === undefined ? undefined : Math.max(0, u.used - size)
  }

  /** Bytes counted for a repository (stored plus in progress), or undefined if not tallied yet. */
  usedBy(name: string): number | undefined {
    const u = this.usage.get(name)
    return u?.used === undefined ? undefined : u.used + u.reserved
  }

  private entry(name: string): Usage {
    let u = this.usage.get(name)
    if (u === undefined) {
      u = { used: undefined, reserved: 0, tally: undefined }
      this.usage.set(name, u)
    }
    return u
  }
}

/** Sum of the sizes of all files of a repository. */
async function tally(store: RepositoryStore, signal: AbortSignal): Promise<number> {
  let total = 0
  for (const type of ALL_FILE_TYPES) {
    for (const [, size] of await store.listWithSize(type, signal)) total += size
  }
  return total
}
