import { z } from 'zod'
import { parseJsonText, UintSchema, unknownMembers, validateJson, withExtra } from './decodeJson.js'
import { GoTimeSchema } from './GoTimeSchema.js'
import { goJsonBytes } from './goJson.js'

/**
 * A restic lock (`locks/<id>`, an unpacked file). rustic-ts takes no locks (rustic's lock-free
 * design) but reads restic's, e.g. to warn about or remove them.
 */
export interface LockFile {
  /** When the lock was made or last refreshed (RFC 3339, kept as stored). */
  time: string
  /** Exclusive (check, prune, forget, …) or shared (backup, reads). */
  exclusive: boolean
  /** Host of the locking process. */
  hostname: string
  /** User of the locking process. */
  username: string
  /** Process id of the locking process. */
  pid: number
  /** User id (left out of the JSON when 0). */
  uid?: number
  /** Group id (left out of the JSON when 0). */
  gid?: number
  /** Unknown JSON members, written back verbatim after the known ones. */
  extra?: Record<string, unknown>
}

/** zod schema of a lock file's JSON. */
export const LockFileSchema = z.object({
  time: GoTimeSchema,
  exclusive: z.boolean().default(false),
  hostname: z.string().default(''),
  username: z.string().default(''),
  pid: z.number().int().default(0),
  uid: UintSchema.nullish(),
  gid: UintSchema.nullish(),
})

const KNOWN = new Set(Object.keys(LockFileSchema.shape))

/** The lock's JSON as restic writes it (Go JSON, no newline; `uid`/`gid` omitted when 0). */
export function serializeLock(l: LockFile): Uint8Array {
  return goJsonBytes(
    withExtra(
      {
        time: l.time,
        exclusive: l.exclusive,
        hostname: l.hostname,
        username: l.username,
        pid: l.pid,
        uid: l.uid || undefined,
        gid: l.gid || undefined,
      },
      l.extra,
    ),
  )
}

/**
 * Parses a lock's JSON (after {@link decodeUnpacked}).
 * @param what - names the file for errors, e.g. `lock 1a2b3c4d`.
 * @throws RusticError `Repository`/`DecodeError`.
 */
export function parseLock(json: Uint8Array, what: string): LockFile {
  const { text, value } = parseJsonText(json, what)
  const o = validateJson(value, LockFileSchema, what)
  const l: LockFile = { time: o.time, exclusive: o.exclusive, hostname: o.hostname, username: o.username, pid: o.pid }
  if (o.uid != null && o.uid !== 0) l.uid = o.uid
  if (o.gid != null && o.gid !== 0) l.gid = o.gid
  const extra = unknownMembers(text, value as Record<string, unknown>, KNOWN)
  if (extra !== undefined) l.extra = extra
  return l
}
