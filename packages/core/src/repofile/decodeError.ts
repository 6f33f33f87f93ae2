import { RusticError } from '../error/RusticError.js'

/** The `Repository`/`DecodeError` error for an undecodable file. */
export function decodeError(what: string, detail: string, cause?: unknown): RusticError {
  return new RusticError('Repository', `cannot decode ${what}: ${detail}`, { code: 'DecodeError', cause })
}
