import { throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { CallOptions, FileWriter } from './Backend.js'
import { ForwardingBackend } from './ForwardingBackend.js'
import type { FileType } from './FileType.js'

/**
 * A backend for `--dry-run`: reads and lists pass through to the inner backend; `create`, `writeBytes`,
 * `remove` and the writers of `openFileWriter` do nothing (and do not fail). Counts what would have
 * been written and removed.
 */
export class DryRunBackend extends ForwardingBackend {
  /** Number of `writeBytes` calls skipped. */
  writesSkipped = 0
  /** Bytes that would have been written. */
  bytesSkipped = 0
  /** Number of `remove` calls skipped. */
  removesSkipped = 0

  /** Does nothing. */
  override async create(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
  }

  /** Does nothing (counts the skipped write). */
  override async writeBytes(_type: FileType, _id: Id, _cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.writesSkipped++
    this.bytesSkipped += data.length
  }

  /** A writer that drops what it is given (a committed file counts as a skipped write). */
  protected override async forwardFileWriter(_type: FileType, _cacheable: boolean, options?: CallOptions): Promise<FileWriter> {
    throwIfAborted(options?.signal)
    let bytes = 0
    return {
      write: async (data) => {
        bytes += data.length
      },
      commit: async () => {
        this.writesSkipped++
        this.bytesSkipped += bytes
      },
      abort: async () => {},
    }
  }

  /** Removes nothing. */
  override async removeStaleTempFiles(_olderThanMs: number, options?: CallOptions): Promise<number> {
    throwIfAborted(options?.signal)
    return 0
  }

  /** Does nothing (counts the skipped removal). */
  override async remove(_type: FileType, _id: Id, _cacheable: boolean, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    this.removesSkipped++
  }
}
