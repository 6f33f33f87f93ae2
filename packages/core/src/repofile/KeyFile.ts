import { randomBytes } from 'node:crypto'
import { hostname as osHostname, userInfo } from 'node:os'
import { z } from 'zod'
import { RusticError, isRusticError } from '../error/RusticError.js'
import { DEFAULT_KDF_PARAMS, deriveKey, type KdfParams, type KeyDeriver } from '../crypto/kdf.js'
import { Key } from '../crypto/Key.js'
import { decodeError, decodeJson, parseJsonText, unknownMembers, validateJson, withExtra } from './decodeJson.js'
import { goTimeFromDate, GoTimeSchema, nowGoTime } from './GoTimeSchema.js'
import { goJsonBytes } from './goJson.js'
import { parseOptions } from '../util/parseOptions.js'

/** Length of the scrypt salt restic requires. */
export const KEY_SALT_LENGTH = 64

/**
 * A key file (`keys/<id>`, plaintext JSON): scrypt parameters and salt, and the master key sealed
 * with the key derived from a password. Its storage id is the SHA-256 of its bytes.
 */
export interface KeyFile {
  /**
   * When the key was made (RFC 3339, kept as stored). rustic and rustic_core write key files without it,
   * and restic treats it as optional (Go's zero time); such a key file keeps it `undefined`.
   */
  created?: string
  /** The user who made it (`''` when the key file has none). */
  username: string
  /** The host it was made on (`''` when the key file has none). */
  hostname: string
  /** The key derivation function; only `scrypt` exists. */
  kdf: 'scrypt'
  /** scrypt N. */
  N: number
  /** scrypt r. */
  r: number
  /** scrypt p. */
  p: number
  /** Base64 of the 64-byte salt. */
  salt: string
  /** Base64 of the sealed master key JSON. */
  data: string
  /** Unknown JSON members, written back verbatim after the known ones. */
  extra?: Record<string, unknown>
}

const Base64Schema = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'expected base64')

/** zod schema of a key file's JSON. */
export const KeyFileSchema = z.object({
  created: GoTimeSchema.nullish(),
  username: z.string().nullish(),
  hostname: z.string().nullish(),
  kdf: z.literal('scrypt'),
  N: z.number().int().positive(),
  r: z.number().int().positive(),
  p: z.number().int().positive(),
  salt: Base64Schema.refine((b) => Buffer.from(b, 'base64').length === KEY_SALT_LENGTH, `expected ${KEY_SALT_LENGTH} bytes of salt`),
  data: Base64Schema,
})

const KNOWN = new Set(Object.keys(KeyFileSchema.shape))

const MasterKeyJsonSchema = z.object({
  mac: z.object({ k: Base64Schema, r: Base64Schema }),
  encrypt: Base64Schema,
})

/** Options of {@link createKeyFile}. */
export const CreateKeyFileOptionsSchema = z.object({
  /** User name to record (default: the current user). */
  username: z.string().optional(),
  /** Host name to record (default: this host). */
  hostname: z.string().optional(),
  /** Creation time to record (default: now, with nanoseconds). */
  created: z.date().optional(),
  /** scrypt parameters (default {@link DEFAULT_KDF_PARAMS}). */
  kdf: z.object({ N: z.number().int(), r: z.number().int(), p: z.number().int() }).optional(),
})

/** Options of {@link createKeyFile}. */
export type CreateKeyFileOptions = z.input<typeof CreateKeyFileOptionsSchema>

function currentUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env['USER'] ?? ''
  }
}

/** A key file's JSON exactly as restic writes it (Go JSON, no newline; `created` left out when unknown, as rustic does), then `extra`. */
export function serializeKeyFile(k: KeyFile): Uint8Array {
  return goJsonBytes(
    withExtra(
      {
        created: k.created,
        username: k.username,
        hostname: k.hostname,
        kdf: k.kdf,
        N: k.N,
        r: k.r,
        p: k.p,
        salt: k.salt,
        data: k.data,
      },
      k.extra,
    ),
  )
}

/**
 * Makes a key file that opens `masterKey` with `password`: a random 64-byte salt, scrypt, and the
 * master key JSON sealed with the derived key. Store `bytes` under `hashId(bytes)` in `keys/`.
 */
export async function createKeyFile(
  masterKey: Key,
  password: string | Uint8Array,
  opts: CreateKeyFileOptions = {},
): Promise<{ keyFile: KeyFile; bytes: Uint8Array }> {
  const o = parseOptions(CreateKeyFileOptionsSchema, opts, 'key file options')
  const params: KdfParams = o.kdf ?? DEFAULT_KDF_PARAMS
  const salt = randomBytes(KEY_SALT_LENGTH)
  const userKey = await deriveKey(password, salt, params)
  const sealed = userKey.encrypt(goJsonBytes(masterKey.toMasterKeyJson()))
  const keyFile: KeyFile = {
    created: o.created === undefined ? nowGoTime() : goTimeFromDate(o.created),
    username: o.username ?? currentUser(),
    hostname: o.hostname ?? osHostname(),
    kdf: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    salt: salt.toString('base64'),
    data: Buffer.from(sealed).toString('base64'),
  }
  return { keyFile, bytes: serializeKeyFile(keyFile) }
}

/**
 * Parses a key file's JSON.
 * @param what - names the file for errors, e.g. `key 1a2b3c4d`.
 * @throws RusticError `Repository`/`DecodeError`.
 */
export function parseKeyFile(json: Uint8Array, what: string): KeyFile {
  const { text, value } = parseJsonText(json, what)
  const o = validateJson(value, KeyFileSchema, what)
  const { created, username, hostname, ...rest } = o
  const k: KeyFile = { ...(created == null ? {} : { created }), username: username ?? '', hostname: hostname ?? '', ...rest }
  const extra = unknownMembers(text, value as Record<string, unknown>, KNOWN)
  if (extra !== undefined) k.extra = extra
  return k
}

/**
 * Opens a key file with a password and returns the repository's master key.
 * @param what - names the key file for errors (default `key file`).
 * @param derive - derives the user key from the password (default {@link deriveKey}).
 * @throws RusticError `Credentials`/`IncorrectPassword` if the password does not open it;
 *   `Repository`/`DecodeError` if the key file is malformed.
 */
export async function openKeyFile(
  keyFile: KeyFile,
  password: string | Uint8Array,
  what = 'key file',
  derive: KeyDeriver = deriveKey,
): Promise<Key> {
  const salt = Buffer.from(keyFile.salt, 'base64')
  if (salt.length !== KEY_SALT_LENGTH) throw decodeError(what, `the salt has ${salt.length} bytes, expected ${KEY_SALT_LENGTH}`)
  const userKey = await derive(password, salt, { N: keyFile.N, r: keyFile.r, p: keyFile.p })
  let plain: Uint8Array
  try {
    plain = userKey.decrypt(Buffer.from(keyFile.data, 'base64'), what)
  } catch (err) {
    if (isRusticError(err, 'MacMismatch')) {
      throw new RusticError('Credentials', `incorrect password: it does not open ${what}`, { code: 'IncorrectPassword' })
    }
    throw err
  }
  const mk = decodeJson(plain, MasterKeyJsonSchema, `master key in ${what}`)
  try {
    return Key.fromMasterKeyJson(mk)
  } catch (cause) {
    throw decodeError(`master key in ${what}`, (cause as Error).message, cause)
  }
}
