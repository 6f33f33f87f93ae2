import type { Readable } from 'node:stream'
import rangeParser from 'range-parser'
import { CONFIG_ID, isBackendError, isNotFound } from '@rustic-ts/core'
import type { FileType, FileWriter, Id, WriteBackend } from '@rustic-ts/core'

/** Bytes to send: in memory, or a stream. */
export type Body = Uint8Array | Readable

/** What a `GET` of a file sends (`start`/`end` inclusive; `size` is the whole file's, if known). */
export type ReadOutcome =
  | { kind: 'full'; size: number; body: Body }
  | { kind: 'partial'; start: number; end: number; size: number | undefined; body: Body }
  | { kind: 'unsatisfiable'; size: number | undefined }

/** A file being received (see {@link RepositoryStore.openUpload}). */
export interface Upload {
  /** True if the bytes go to storage as they arrive; false if they are held until `commit`. */
  readonly streaming: boolean
  /** Appends bytes (calls must not overlap). `data` may be kept until `commit`: do not change it afterwards. */
  write(data: Uint8Array): Promise<void>
  /** Stores the file under `id`, atomically. */
  commit(id: Id): Promise<void>
  /** Drops the file. */
  abort(): Promise<void>
}

/** Pieces handed to a streaming writer are gathered up to this size (fewer, larger writes). */
const WRITE_BATCH = 1 << 20

/**
 * One repository's files as the server reaches them, over any `WriteBackend`:
 * - uploads go through the backend's streaming writer (`openFileWriter`) when it has one for the file
 *   type, and are held in memory until complete otherwise (`writeBytes` takes whole files);
 * - `GET` of a single range `bytes=a-b` is one `readPartial`; a whole file or another range is
 *   `readFull`; `HEAD` learns the size with `readFull` (the contract has no `stat`).
 *
 * {@link LocalRepositoryStore} replaces the reads by direct file access for a `LocalBackend`.
 */
export class RepositoryStore {
  /**
   * @param backend - the repository's storage.
   * @param name - the repository's path below the server root (`''` for the root), for metrics and logs.
   */
  constructor(
    readonly backend: WriteBackend,
    readonly name: string,
  ) {}

  /** Creates the repository structure. */
  create(signal: AbortSignal): Promise<void> {
    return this.backend.create({ signal })
  }

  /** Ids of all files of a type. */
  list(type: FileType, signal: AbortSignal): Promise<Id[]> {
    return this.backend.list(type, { signal })
  }

  /** Ids and sizes of all files of a type. */
  listWithSize(type: FileType, signal: AbortSignal): Promise<Array<[Id, number]>> {
    return this.backend.listWithSize(type, { signal })
  }

  /** True if the file exists (a zero-length ranged read, which every backend answers cheaply). */
  async exists(type: FileType, id: Id, signal: AbortSignal): Promise<boolean> {
    try {
      await this.backend.readPartial(type, idOf(type, id), type !== 'pack', 0, 0, { signal })
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw err
    }
  }

  /** The size of a file; throws a `NotFound` `BackendError` if it is missing. */
  async size(type: FileType, id: Id, signal: AbortSignal): Promise<number> {
    return (await this.backend.readFull(type, idOf(type, id), { signal })).length
  }

  /** The size of a file if it can be learnt cheaply, `undefined` otherwise or if it is missing. */
  async cheapSize(_type: FileType, _id: Id): Promise<number | undefined> {
    return undefined
  }

  /** What to send for a `GET` with the given `Range` header (undefined: the whole file). */
  async read(type: FileType, id: Id, range: string | undefined, signal: AbortSignal): Promise<ReadOutcome> {
    const fid = idOf(type, id)
    const opts = { signal }
    if (range !== undefined) {
      const m = /^\s*bytes=(\d{1,15})-(\d{1,15})\s*$/.exec(range)
      const start = m ? Number(m[1]) : NaN
      const end = m ? Number(m[2]) : NaN
      if (end >= start) {
        try {
          const body = await this.backend.readPartial(type, fid, type !== 'pack', start, end - start + 1, opts)
          return { kind: 'partial', start, end, size: undefined, body }
        } catch (err) {
          // past the end: read the whole file below to answer as HTTP says (shortened range or 416)
          if (!isBackendError(err, 'Invalid')) throw err
        }
      }
    }
    const data = await this.backend.readFull(type, fid, opts)
    return selectRange(data.length, range, (start, end) => data.subarray(start, end + 1))
  }

  /**
   * Starts receiving a file: into the backend's streaming writer if it has one for this type,
   * otherwise into memory (stored with `writeBytes` on `commit`).
   */
  async openUpload(type: FileType, signal: AbortSignal): Promise<Upload> {
    const cacheable = type !== 'pack'
    const writer = await this.backend.openFileWriter?.(type, cacheable, { signal })
    if (writer !== undefined) return batched(writer)
    const chunks: Uint8Array[] = []
    return {
      streaming: false,
      write: async (data) => {
        chunks.push(data)
      },
      commit: async (id) => {
        const whole = Buffer.concat(chunks)
        chunks.length = 0
        await this.backend.writeBytes(type, idOf(type, id), cacheable, whole, { signal })
      },
      abort: async () => {
        chunks.length = 0
      },
    }
  }

  /** Removes a file; false if it was missing. */
  async remove(type: FileType, id: Id, signal: AbortSignal): Promise<boolean> {
    try {
      await this.backend.remove(type, idOf(type, id), type !== 'pack', { signal })
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw err
    }
  }

  /** Releases the backend's resources. */
  async close(): Promise<void> {
    await this.backend.close?.()
  }
}

/** The id backend calls take for a file (`CONFIG_ID` for the config). */
export function idOf(type: FileType, id: Id): Id {
  return type === 'config' ? CONFIG_ID : id
}

/**
 * Applies a `Range` header to a file of `size` bytes as Go's `http.ServeContent` (rest-server) does for
 * one range: no header, another unit or several ranges send the whole file; a malformed or
 * unsatisfiable range is 416; otherwise the range, shortened to the end of the file.
 */
export function selectRange(size: number, range: string | undefined, slice: (start: number, end: number) => Body): ReadOutcome {
  if (range === undefined) return { kind: 'full', size, body: slice(0, size - 1) }
  const parsed = rangeParser(size, range, { combine: true })
  if (parsed === -1 || parsed === -2) return { kind: 'unsatisfiable', size }
  if (parsed.type !== 'bytes' || parsed.length !== 1) return { kind: 'full', size, body: slice(0, size - 1) }
  const { start, end } = parsed[0]!
  return { kind: 'partial', start, end, size, body: slice(start, end) }
}

/** A streaming writer fed in batches of up to {@link WRITE_BATCH} bytes. */
function batched(writer: FileWriter): Upload {
  let pending: Uint8Array[] = []
  let pendingBytes = 0
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes)
    pending = []
    pendingBytes = 0
    await writer.write(data)
  }
  return {
    streaming: true,
    write: async (data) => {
      pending.push(data)
      pendingBytes += data.length
      if (pendingBytes >= WRITE_BATCH) await flush()
    },
    commit: async (id) => {
      await flush()
      await writer.commit(id)
    },
    abort: async () => {
      pending = []
      pendingBytes = 0
      await writer.abort()
    },
  }
}
