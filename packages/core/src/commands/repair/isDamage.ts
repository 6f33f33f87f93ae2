import { isNotFound } from '../../backend/BackendError.js'
import { isRusticError } from '../../error/RusticError.js'

/**
 * True for errors that mean a file or blob is damaged or gone (missing, not indexed, failing its MAC or
 * hash, undecodable), as opposed to a backend that failed to answer: repair drops or empties what these
 * hit, and stops on any other error.
 */
export function isDamage(e: unknown): boolean {
  return (
    isNotFound(e) ||
    isRusticError(e, 'BlobNotFound') ||
    isRusticError(e, 'IntegrityError') ||
    isRusticError(e, 'MacMismatch') ||
    isRusticError(e, 'DecodeError')
  )
}
