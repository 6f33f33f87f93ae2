import { throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { CallOptions, WriteBackend } from './Backend.js'
import type { FileType } from './FileType.js'

/**
 * A backend for `--dry-run`: reads and lists pass through to the inner backend; `create`, `writeBytes`
 * and `remove` do nothing (and do not fail). Counts what would have been written and removed.
 */
export class DryRunBackend implements WriteBackend {
  /** Number of `writeBytes` calls skipped. */
  writesSkipped = 0
  /** Bytes that would have been written. */
  bytesSkipped = 0
  /** Number of `remove` calls skipped. */
  removesSkipped = 0

  /** @param inner - the backend that serves reads. */
  constructor(readonly inner: WriteBackend) {}

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
  readPartial(
    type: FileType,
    id: Id,
    cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    return this.inner.readPartial(type, id, cacheable, offset, length, options)
  }

  /** The inner backend's answer. */
  needsWarmUp(): boolean {
    return this.inner.needsWarmUp?.() ?? false
  }

  /** Passes through (a no-op if the inner backend has no `warmUp`). */
  async warmUp(type: FileType, id: Id, options?: CallOptions): Promise<void> {
    await this.inner.warmUp?.(type, id, options)
  }

  /** Does nothing. */
  async create(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
  }

  /** Does nothing (counts the skipped write). */
  async writeBytes(_type: FileType, _id: Id, _cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.writesSkipped++
    this.bytesSkipped += data.length
  }

  /** Does nothing (counts the skipped removal). */
  async remove(_type: FileType, _id: Id, _cacheable: boolean, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.removesSkipped++
  }

  /** Closes the inner backend. */
  async close(): Promise<void> {
    await this.inner.close?.()
  }
}
