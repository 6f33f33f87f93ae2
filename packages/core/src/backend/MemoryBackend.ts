import { throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import { CONFIG_ID } from './Backend.js'
import type { CallOptions, WriteBackend } from './Backend.js'
import { BackendError } from './BackendError.js'
import { checkRange } from './checkRange.js'
import type { FileType } from './FileType.js'

/**
 * A backend holding files in memory, for tests and experiments. Copies data on write and read,
 * so callers may reuse their buffers.
 */
export class MemoryBackend implements WriteBackend {
  private readonly files = new Map<FileType, Map<Id, Uint8Array>>()

  /** @param name - shown in `location()` as `memory:<name>`. */
  constructor(private readonly name = '') {}

  /** `memory:<name>`. */
  location(): string {
    return `memory:${this.name}`
  }

  private dir(type: FileType): Map<Id, Uint8Array> {
    let d = this.files.get(type)
    if (d === undefined) {
      d = new Map()
      this.files.set(type, d)
    }
    return d
  }

  private get(type: FileType, id: Id): Uint8Array {
    const data = this.dir(type).get(key(type, id))
    if (data === undefined) throw new BackendError('NotFound', `${what(type, id)} not found in ${this.location()}`)
    return data
  }

  /** Does nothing (memory needs no structure). */
  async create(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
  }

  /** Ids of all files of a type. */
  async list(type: FileType, options?: CallOptions): Promise<Id[]> {
    throwIfAborted(options?.signal)
    return [...this.dir(type).keys()]
  }

  /** Ids and sizes of all files of a type. */
  async listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    throwIfAborted(options?.signal)
    return [...this.dir(type)].map(([id, d]) => [id, d.length])
  }

  /** A copy of a whole file. */
  async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    return Uint8Array.from(this.get(type, id))
  }

  /** A copy of `length` bytes from `offset`; throws `Invalid` if the file is shorter. */
  async readPartial(
    type: FileType,
    id: Id,
    _cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    const data = this.get(type, id)
    checkRange(type, id, offset, length, data.length)
    return data.slice(offset, offset + length)
  }

  /** Stores a copy of `data`. */
  async writeBytes(type: FileType, id: Id, _cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.dir(type).set(key(type, id), Uint8Array.from(data))
  }

  /** Removes a file; throws `NotFound` if missing. */
  async remove(type: FileType, id: Id, _cacheable: boolean, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    if (!this.dir(type).delete(key(type, id))) {
      throw new BackendError('NotFound', `cannot remove ${what(type, id)}: not found in ${this.location()}`)
    }
  }
}

function key(type: FileType, id: Id): Id {
  return type === 'config' ? CONFIG_ID : id
}

function what(type: FileType, id: Id): string {
  return type === 'config' ? 'config' : `${type} ${id}`
}
