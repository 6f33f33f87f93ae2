import { fsErrorReason } from '../../error/fsErrorReason.js'
import { isRusticError, RusticError } from '../../error/RusticError.js'
import { displayPath, type FsPath } from './fsPath.js'

/**
 * The error of a file system call of restore (kind `InputOutput`, code `RestoreIo`): `cannot <what> <path>:
 * <reason>`. A `RusticError` is returned as it is.
 */
export function restoreIoError(e: unknown, what: string, path: FsPath): RusticError {
  if (isRusticError(e)) return e
  return new RusticError('InputOutput', `cannot ${what} ${displayPath(path)}: ${fsErrorReason(e)}`, { code: 'RestoreIo', cause: e })
}
