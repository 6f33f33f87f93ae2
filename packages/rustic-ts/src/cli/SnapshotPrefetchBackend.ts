import { ForwardingBackend, throwIfAborted, type CallOptions, type FileType, type Id, type WriteBackend } from '@rustic-ts/core'

/**
 * A backend decorator for a command that reads every snapshot file (`snapshots`, `ls latest`): made before
 * the repository is opened, it lists the snapshot files and reads them, `concurrency` at a time, while the
 * key is derived (scrypt keeps a core busy for a few hundred milliseconds), and hands each file's bytes to
 * the first `readFull` of it. Listing is not served from that early list: `list` always asks the backend
 * again (after the command took its lock), so snapshots removed or added meanwhile are seen as they are;
 * the early bytes of a listed snapshot are still right, as a snapshot file never changes (its name is the
 * hash of its content). A failed early read is not reported: the file is read again when asked for.
 */
export class SnapshotPrefetchBackend extends ForwardingBackend {
  readonly #early = new Map<Id, Promise<Uint8Array>>()
  /** Snapshot files the command asked for before the early reads got to them: those are not read early. */
  readonly #asked = new Set<Id>()

  constructor(inner: WriteBackend, concurrency: number) {
    super(inner)
    void this.#prefetch(Math.max(1, concurrency)).catch(() => {})
  }

  async #prefetch(concurrency: number): Promise<void> {
    const ids = await this.inner.list('snapshot')
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++]!
        if (this.#asked.has(id)) continue
        const read = this.inner.readFull('snapshot', id)
        this.#early.set(id, read)
        await read.catch(() => {})
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker))
  }

  /** A snapshot file read early (once), else passes through. */
  override async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    if (type !== 'snapshot') return this.inner.readFull(type, id, options)
    const early = this.#early.get(id)
    if (early === undefined) this.#asked.add(id)
    else {
      this.#early.delete(id)
      throwIfAborted(options?.signal)
      try {
        return await early
      } catch {
        // read it again below: that error is the one reported
      }
    }
    return this.inner.readFull(type, id, options)
  }
}
