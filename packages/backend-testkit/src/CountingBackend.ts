import type { CallOptions, FileType, Id, WriteBackend } from '@rustic-ts/core'

/** The backend methods {@link CountingBackend} counts. */
export type BackendMethod =
  | 'location'
  | 'create'
  | 'list'
  | 'listWithSize'
  | 'readFull'
  | 'readPartial'
  | 'writeBytes'
  | 'remove'
  | 'warmUp'

/** One recorded call of a {@link CountingBackend}. */
export interface RecordedCall {
  /** The method called. */
  method: BackendMethod
  /** The file type, if the method takes one. */
  type?: FileType
  /** The file id, if the method takes one. */
  id?: Id
}

/**
 * Wraps a backend and counts calls per method and file type, plus bytes read and written.
 * For tests asserting e.g. "no reads from cold" or "served from cache".
 */
export class CountingBackend implements WriteBackend {
  /** Every call, in order. */
  readonly calls: RecordedCall[] = []
  /** Bytes returned by `readFull`/`readPartial`. */
  bytesRead = 0
  /** Bytes passed to `writeBytes`. */
  bytesWritten = 0

  /** @param inner - the backend that serves the calls. */
  constructor(readonly inner: WriteBackend) {}

  /** Number of calls of `method` (of file type `type`, if given; `reads`/`writes` group methods). */
  count(method: BackendMethod | 'reads' | 'writes', type?: FileType): number {
    const methods: BackendMethod[] =
      method === 'reads' ? ['readFull', 'readPartial'] : method === 'writes' ? ['writeBytes', 'remove'] : [method]
    let n = 0
    for (const c of this.calls) if (methods.includes(c.method) && (type === undefined || c.type === type)) n++
    return n
  }

  /** Forgets all recorded calls and byte counts. */
  reset(): void {
    this.calls.length = 0
    this.bytesRead = 0
    this.bytesWritten = 0
  }

  private record(method: BackendMethod, type?: FileType, id?: Id): void {
    const call: RecordedCall = { method }
    if (type !== undefined) call.type = type
    if (id !== undefined) call.id = id
    this.calls.push(call)
  }

  /** The inner backend's location. */
  location(): string {
    this.record('location')
    return this.inner.location()
  }

  /** Counts and forwards. */
  async create(options?: CallOptions): Promise<void> {
    this.record('create')
    return this.inner.create(options)
  }

  /** Counts and forwards. */
  async list(type: FileType, options?: CallOptions): Promise<Id[]> {
    this.record('list', type)
    return this.inner.list(type, options)
  }

  /** Counts and forwards. */
  async listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    this.record('listWithSize', type)
    return this.inner.listWithSize(type, options)
  }

  /** Counts and forwards. */
  async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    this.record('readFull', type, id)
    const data = await this.inner.readFull(type, id, options)
    this.bytesRead += data.length
    return data
  }

  /** Counts and forwards. */
  async readPartial(
    type: FileType,
    id: Id,
    cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    this.record('readPartial', type, id)
    const data = await this.inner.readPartial(type, id, cacheable, offset, length, options)
    this.bytesRead += data.length
    return data
  }

  /** Counts and forwards. */
  async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    this.record('writeBytes', type, id)
    this.bytesWritten += data.length
    return this.inner.writeBytes(type, id, cacheable, data, options)
  }

  /** Counts and forwards. */
  async remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    this.record('remove', type, id)
    return this.inner.remove(type, id, cacheable, options)
  }

  /** Forwards to the inner backend. */
  needsWarmUp(): boolean {
    return this.inner.needsWarmUp?.() ?? false
  }

  /** Counts and forwards (a no-op if the inner backend has no `warmUp`). */
  async warmUp(type: FileType, id: Id, options?: CallOptions): Promise<void> {
    this.record('warmUp', type, id)
    await this.inner.warmUp?.(type, id, options)
  }

  /** Forwards to the inner backend. */
  async close(): Promise<void> {
    await this.inner.close?.()
  }
}
