import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { CallOptions, FileWriter } from './Backend.js'
import type { FileType } from './FileType.js'
import { ForwardingBackend } from './ForwardingBackend.js'

/**
 * The top of a repository's backend stack: once {@link CloseGuardBackend.close} has run, every call fails
 * with `RepositoryClosed` ("the repository at ... is closed") instead of reaching backends whose
 * connections and child processes are gone. Closing twice is fine.
 */
export class CloseGuardBackend extends ForwardingBackend {
  private closed = false


  /** Opens a file writer of the inner backend, unless closed. */
  protected override async forwardFileWriter(type: FileType, cacheable: boolean, options?: CallOptions): Promise<FileWriter | undefined> {
    this.check()
    return super.forwardFileWriter(type, cacheable, options)
  }

  /** True once closed. */
  get isClosed(): boolean {
    return this.closed
  }

  /** Throws `RepositoryClosed` once closed. */
  check(): void {
    if (this.closed) {
      throw new RusticError('Repository', `the repository at ${this.inner.location()} is closed: open it again to use it`, { code: 'RepositoryClosed' })
    }
  }

  override async list(type: FileType, options?: CallOptions): Promise<Id[]> {
    this.check()
    return this.inner.list(type, options)
  }

  override async listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    this.check()
    return this.inner.listWithSize(type, options)
  }

  override async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    this.check()
    return this.inner.readFull(type, id, options)
  }

  override async readPartial(type: FileType, id: Id, cacheable: boolean, offset: number, length: number, options?: CallOptions): Promise<Uint8Array> {
    this.check()
    return this.inner.readPartial(type, id, cacheable, offset, length, options)
  }

  override async warmUp(type: FileType, id: Id, options?: CallOptions): Promise<void> {
    this.check()
    await this.inner.warmUp?.(type, id, options)
  }

  override async create(options?: CallOptions): Promise<void> {
    this.check()
    return this.inner.create(options)
  }

  override async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    this.check()
    return this.inner.writeBytes(type, id, cacheable, data, options)
  }

  override async remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    this.check()
    return this.inner.remove(type, id, cacheable, options)
  }

  override async removeStaleTempFiles(olderThanMs: number, options?: CallOptions): Promise<number> {
    this.check()
    return super.removeStaleTempFiles(olderThanMs, options)
  }

  /** Marks the stack closed, then closes the backends below (once). */
  override async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.inner.close?.()
  }
}
