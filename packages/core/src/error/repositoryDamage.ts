import { isRusticError } from './RusticError.js'

/** Codes of errors that mean the stored data is damaged: a MAC, decompression or hash check failed. */
const DAMAGE_CODES: ReadonlySet<string> = new Set(['MacMismatch', 'DecodeError', 'IntegrityError'])

/**
 * True if `err` says a file of the repository is damaged, rather than that the work cannot go on: a
 * MAC, decompression or hash check failed (codes `MacMismatch`, `DecodeError`, `IntegrityError`), or the
 * backend has no such file or not the bytes asked for (backend errors `NotFound`, `Invalid`). Restore
 * carries on past such damage; anything else (network, permissions, the target's file system, an abort)
 * stops it.
 */
export function isRepositoryDamage(err: unknown): boolean {
  if (!isRusticError(err)) return false
  if (DAMAGE_CODES.has(err.code)) return true
  return err.kind === 'Backend' && (err.code === 'NotFound' || err.code === 'Invalid')
}
