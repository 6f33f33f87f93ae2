import type { Id } from '../id/Id.js'
import { BackendError } from './BackendError.js'
import type { FileType } from './FileType.js'

/**
 * Checks a ranged read: `offset` and `length` must be non-negative integers and the range must lie
 * inside a file of `size` bytes; throws a `BackendError` of kind `Invalid` naming the file otherwise.
 */
export function checkRange(type: FileType, id: Id, offset: number, length: number, size: number): void {
  const name = type === 'config' ? 'config' : `${type} ${id}`
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new BackendError('Invalid', `invalid range (offset ${offset}, length ${length}) for ${name}`)
  }
  if (offset + length > size) {
    throw new BackendError(
      'Invalid',
      `cannot read ${length} bytes at offset ${offset} of ${name}: the file has only ${size} bytes`,
    )
  }
}
