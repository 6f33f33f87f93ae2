import { RusticError } from '../../error/RusticError.js'
import type { LockInfo } from './LockInfo.js'

/**
 * A lock could not be taken because other clients hold conflicting locks (code `RepositoryLocked`).
 * The message names one of them (host, PID, age, whether it looks stale); `locks` lists them all.
 */
export class RepositoryLockedError extends RusticError {
  constructor(
    message: string,
    /** The conflicting locks. */
    readonly locks: LockInfo[],
  ) {
    super('Repository', message, { code: 'RepositoryLocked' })
    this.name = 'RusticError'
  }
}
