import type { Id } from '../id/Id.js'
import type { CallOptions, FileWriter, WriteBackend } from './Backend.js'
import type { FileType } from './FileType.js'

/**
 * Base class of backend decorators: every method, optional ones included, passes through to `inner`.
 * A decorator extends it and overrides only what it changes (for `openFileWriter`, override
 * {@link ForwardingBackend.forwardFileWriter}).
 */
export class ForwardingBackend implements WriteBackend {
  /**
   * Starts a file written piece by piece, through {@link ForwardingBackend.forwardFileWriter}. Present
   * exactly when the inner backend has one, so that wrapping a backend keeps (and never fakes) its
   * streamed pack writes.
   */
  declare readonly openFileWriter?: (type: FileType, cacheable: boolean, options?: CallOptions) => Promise<FileWriter | undefined>

  /**
   * The path of a plain local file (see `ReadBackend.localPath`): present exactly when the inner backend has
   * one and this decorator does not change what `readPartial` returns (does not override it), so that no
   * reader bypasses a decorator that changes or checks the bytes.
   */
  declare readonly localPath?: (type: FileType, id: Id, options?: CallOptions) => Promise<string | undefined>

  /** @param inner - the decorated backend. */
  constructor(readonly inner: WriteBackend) {
    if (typeof inner.localPath === 'function' && this.readPartial === ForwardingBackend.prototype.readPartial) {
      Object.defineProperty(this, 'localPath', {
        value: (type: FileType, id: Id, options?: CallOptions) => this.inner.localPath!(type, id, options),
      })
    }
    if (typeof inner.openFileWriter === 'function') {
      Object.defineProperty(this, 'openFileWriter', {
        value: (type: FileType, cacheable: boolean, options?: CallOptions) => this.forwardFileWriter(type, cacheable, options),
      })
    }
  }

  /** Opens a file writer of the inner backend (called only when it has `openFileWriter`). */
  protected forwardFileWriter(type: FileType, cacheable: boolean, options?: CallOptions): Promise<FileWriter | undefined> {
    return this.inner.openFileWriter!(type, cacheable, options)
  }

  /** The inner backend's location. */
  location(): string {
    return this.inner.location()
  }

  /** Passes through. */
  list(type: FileType, options?: CallOptions): Promise<Id[]> {
    return this.inner.list(type, options)
  }

  /** Passes through. */
  listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    return this.inner.listWithSize(type, options)
  }

  /** Passes through. */
  readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    return this.inner.readFull(type, id, options)
  }

  /** Passes through. */
  readPartial(type: FileType, id: Id, cacheable: boolean, offset: number, length: number, options?: CallOptions): Promise<Uint8Array> {
    return this.inner.readPartial(type, id, cacheable, offset, length, options)
  }

  /** The inner backend's answer (false if it has none). */
  needsWarmUp(): boolean {
    return this.inner.needsWarmUp?.() ?? false
  }

  /** Passes through (a no-op if the inner backend has no `warmUp`). */
  async warmUp(type: FileType, id: Id, options?: CallOptions): Promise<void> {
    await this.inner.warmUp?.(type, id, options)
  }

  /** Passes through. */
  create(options?: CallOptions): Promise<void> {
    return this.inner.create(options)
  }

  /** Passes through. */
  writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    return this.inner.writeBytes(type, id, cacheable, data, options)
  }

  /** Passes through. */
  remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    return this.inner.remove(type, id, cacheable, options)
  }

  /** Passes through (0 if the inner backend has no such method). */
  async removeStaleTempFiles(olderThanMs: number, options?: CallOptions): Promise<number> {
    return (await this.inner.removeStaleTempFiles?.(olderThanMs, options)) ?? 0
  }

  /** Closes the inner backend. */
  async close(): Promise<void> {
    await this.inner.close?.()
  }
}
