import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { BackendError, isBackendError } from '@rustic-ts/core'
import type { FileType, Id } from '@rustic-ts/core'
import { fsError } from '@rustic-ts/backend-local'
import type { LocalBackend } from '@rustic-ts/backend-local'
import { RepositoryStore, idOf, selectRange } from './RepositoryStore.js'
import type { ReadOutcome } from './RepositoryStore.js'

/**
 * A repository in a local directory (a `LocalBackend`): writes, listings and removals go through the
 * backend (restic's layout, directories 0700, files 0600, temp file then rename), while `HEAD` is a
 * `stat` and `GET` streams straight from the file (one open file, so a concurrent removal cannot mix
 * up size and bytes).
 */
export class LocalRepositoryStore extends RepositoryStore {
  /**
   * @param local - the repository's backend.
   * @param name - the repository's path below the server root.
   */
  constructor(
    private readonly local: LocalBackend,
    name: string,
  ) {
    super(local, name)
  }

  private path(type: FileType, id: Id): string {
    return this.local.fullPath(type, idOf(type, id))
  }

  /** True if the file exists. */
  override async exists(type: FileType, id: Id): Promise<boolean> {
    return (await this.cheapSize(type, id)) !== undefined
  }

  /** The file's size by `stat`. */
  override async size(type: FileType, id: Id): Promise<number> {
    const p = this.path(type, id)
    try {
      const st = await stat(p)
      if (!st.isFile()) throw new BackendError('NotFound', `${p} is not a file`)
      return st.size
    } catch (err) {
      if (isBackendError(err)) throw err
      throw fsError(err, `cannot stat ${p}`)
    }
  }

  /** The file's size by `stat`, `undefined` if it is missing. */
  override async cheapSize(type: FileType, id: Id): Promise<number | undefined> {
    try {
      return await this.size(type, id)
    } catch (err) {
      if (isBackendError(err, 'NotFound')) return undefined
      throw err
    }
  }

  /** Streams the file (or the asked range) from disk. */
  override async read(type: FileType, id: Id, range: string | undefined): Promise<ReadOutcome> {
    const p = this.path(type, id)
    let fh
    try {
      fh = await open(p, 'r')
    } catch (err) {
      throw fsError(err, `cannot read ${p}`)
    }
    let outcome: ReadOutcome
    try {
      const st = await fh.stat()
      if (!st.isFile()) throw new BackendError('NotFound', `${p} is not a file`)
      outcome = selectRange(st.size, range, (start, end) =>
        end < start ? new Uint8Array(0) : createReadStream('', { fd: fh!, start, end, autoClose: true, highWaterMark: 1 << 20 }),
      )
    } catch (err) {
      await fh.close().catch(() => {})
      if (isBackendError(err)) throw err
      throw fsError(err, `cannot read ${p}`)
    }
    // the stream (if any) closes the file when done; otherwise close it here
    if (outcome.kind === 'unsatisfiable' || outcome.body instanceof Uint8Array) await fh.close().catch(() => {})
    return outcome
  }
}
