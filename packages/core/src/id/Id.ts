import { createHash, randomBytes } from 'node:crypto'
import { RusticError } from '../error/RusticError.js'

/** A 32-byte id (SHA-256), held as 64 lowercase hex characters. */
export type Id = string & { readonly __brand: 'Id' }

const HEX64 = /^[0-9a-f]{64}$/

/** True if `s` is a valid id (64 lowercase hex chars). */
export function isId(s: string): s is Id {
  return HEX64.test(s)
}

/** Parses a hex id (case-insensitive); throws `InvalidId` otherwise. */
export function parseId(hex: string): Id {
  const lower = hex.toLowerCase()
  if (!HEX64.test(lower)) {
    throw new RusticError('InvalidInput', `invalid id "${hex.slice(0, 80)}": expected 64 hex characters`, {
      code: 'InvalidId',
    })
  }
  return lower as Id
}

/** The id held in 32 bytes. */
export function idFromBytes(bytes: Uint8Array): Id {
  if (bytes.length !== 32) throw new RusticError('InvalidInput', `id must be 32 bytes, got ${bytes.length}`, { code: 'InvalidId' })
  return Buffer.from(bytes.buffer, bytes.byteOffset, 32).toString('hex') as Id
}

/** The 32 bytes of an id. */
export function idToBytes(id: Id): Uint8Array {
  return Buffer.from(id, 'hex')
}

/** SHA-256 of `data`, as an id. */
export function hashId(...data: Uint8Array[]): Id {
  const h = createHash('sha256')
  for (const d of data) h.update(d)
  return h.digest('hex') as Id
}

/** A random id (e.g. for a new repository config). */
export function randomId(): Id {
  return randomBytes(32).toString('hex') as Id
}

/** The first 8 hex characters, as restic prints short ids. */
export function shortId(id: Id): string {
  return id.slice(0, 8)
}

/**
 * Finds the one id among `candidates` that starts with `prefix`.
 * Throws `IdNotFound` if none does and `AmbiguousId` (naming the candidates) if several do.
 * @param what - what the ids name, for the message (e.g. `snapshot`).
 */
export function findIdByPrefix(candidates: Iterable<Id>, prefix: string, what: string): Id {
  const p = prefix.toLowerCase()
  if (!/^[0-9a-f]+$/.test(p)) {
    throw new RusticError('InvalidInput', `invalid ${what} id "${prefix}": expected hex characters`, { code: 'InvalidId' })
  }
  const found: Id[] = []
  for (const id of candidates) if (id.startsWith(p)) found.push(id)
  if (found.length === 0) throw new RusticError('InvalidInput', `no ${what} with id ${prefix}`, { code: 'IdNotFound' })
  const unique = [...new Set(found)]
  if (unique.length > 1) {
    const names = unique.slice(0, 10).map(shortId).join(', ')
    throw new RusticError(
      'InvalidInput',
      `${what} id prefix ${prefix} is ambiguous: it matches ${unique.length} ids (${names}${unique.length > 10 ? ', ...' : ''}); give more characters`,
      { code: 'AmbiguousId' },
    )
  }
  return unique[0]!
}
