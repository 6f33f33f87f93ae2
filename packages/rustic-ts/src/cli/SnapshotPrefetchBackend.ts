import { ForwardingBackend, throwIfAborted, type CallOptions, type FileType, type Id, type WriteBackend } from '@rustic-ts/core'

/**
 * A backend decorator for a command that reads every snapshot file (`snapshots`, `ls latest`), or every file
 * of other `types` (`check` reads every index and snapshot file): made before the repository is opened, it
 * lists those files and reads them, `concurrency` at a time, type after type, while the key is derived
 * (scrypt keeps a core busy for a few hundred milliseconds), and hands each file's bytes to the first
 * `readFull` of it. Listing is not served from that early list: `list` always asks the backend again (after
 * the command took its lock), so files removed or added meanwhile are seen as they are; the early bytes of
 * a listed file are still right, as a snapshot or index file never changes (its name is the hash of its
 * content). A failed early read is not reported: the file is read again when asked for.
 */
export class SnapshotPrefetchBackend extends ForwardingBackend {
  readonly #early = new Map<string, Promise<Uint8Array>>()
  /** Files the command asked for before the early reads got to them: those are not read early. */
  readonly #asked = new Set<string>()
  readonly #types: ReadonlySet<FileType>

  /** @param types - the file types to read early (unpacked files whose name is the hash of their content). */
  constructor(inner: WriteBackend, concurrency: number, types: readonly ('snapshot' | 'index')[] = ['snapshot']) {
    super(inner)
    this.#types = new Set(types)
    void this.#prefetch(Math.max(1, concurrency), types).catch(() => {})
  }

  async #prefetch(concurrency: number, types: readonly FileType[]): Promise<void> {
    for (const type of types) {
      const ids = await this.inner.list(type)
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < ids.length) {
          const name = `${type}/${ids[next++]!}`
          if (this.#asked.has(name)) continue
          const read = this.inner.readFull(type, ids[next - 1]!)
          this.#early.set(name, read)
          await read.catch(() => {})
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker))
    }
  }

  /** A file read early (once), else passes through. */
  override async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    if (!this.#types.has(type)) return this.inner.readFull(type, id, options)
    const name = `${type}/${id}`
    const early = this.#early.get(name)
    if (early === undefined) this.#asked.add(name)
    else {
      this.#early.delete(name)
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
