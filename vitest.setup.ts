import { expect } from 'vitest'

/**
 * Byte arrays of the same class are equal when their bytes are: one `Buffer.compare` instead of vitest's
 * generic check, which walks them element by element (seconds per MiB, on every `toEqual` of file
 * contents). Anything else (other classes, mixed classes) is left to vitest's own rules.
 */
function bytesEqual(a: unknown, b: unknown): boolean | undefined {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return undefined
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return undefined
  return Buffer.compare(a, b) === 0
}

expect.addEqualityTesters([bytesEqual])
