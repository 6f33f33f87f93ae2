// Loaded by dist/cli.js before the program: Node built-ins and core's dependency-free scrypt files only (no zod).
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Worker } from 'node:worker_threads'
import { kdfParamsValid, scryptBytes } from '@rustic-ts/core/internal'
import type { KdfParams } from '@rustic-ts/core/internal'
import { earlyKeyTarget } from './earlyKeyTarget.js'

/** A derivation started for one key file. */
interface Started {
  password: Uint8Array
  salt: Uint8Array
  params: KdfParams
  /** scrypt's 64 bytes, or undefined if it failed (the normal path then derives, and reports). */
  result: Promise<Uint8Array | undefined>
}

/**
 * The one derivation this process started before its program loaded (module state of the CLI: the program
 * takes it through {@link takeEarlyKey}, which the repository options' `keyDeriver` calls).
 */
let started: Started | undefined

/** Commands that run worker threads next: the derivation's thread is kept for them (see {@link takeEarlyThread}). */
const KEEPS_THREAD: ReadonlySet<string> = new Set(['check'])

/** The derivation's worker thread, idle, kept for the command (see {@link takeEarlyThread}). */
let kept: Worker | undefined

const ID = /^[0-9a-f]{64}$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const SALT_LENGTH = 64

/** The salt and parameters of a key file's bytes, if it is one that `findKey` would try (named by its hash, scrypt, a 64-byte salt). */
function keyFileParams(id: string, bytes: Buffer): { salt: Uint8Array; params: KdfParams } | undefined {
  if (createHash('sha256').update(bytes).digest('hex') !== id) return undefined
  let json: unknown
  try {
    json = JSON.parse(bytes.toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof json !== 'object' || json === null) return undefined
  const k = json as Record<string, unknown>
  if (k['kdf'] !== 'scrypt' || typeof k['salt'] !== 'string' || typeof k['data'] !== 'string' || !BASE64.test(k['salt']) || !BASE64.test(k['data'])) {
    return undefined
  }
  const params = { N: k['N'], r: k['r'], p: k['p'] } as KdfParams
  const salt = Buffer.from(k['salt'], 'base64')
  return salt.length === SALT_LENGTH && kdfParamsValid(params) ? { salt, params } : undefined
}

/**
 * Starts the key derivation (`scryptBytes`: off the main thread, restic's several lanes on worker threads at
 * once) of the command line's repository key before the program's modules load, when {@link earlyKeyTarget}
 * knows the repository and the password: the config file is there, and the first key file that `findKey` would
 * try (the listing order of `keys/`, skipping files it skips) is derived with the password. Only the first: the
 * others (rare) are derived when tried. Nothing is written, nothing is printed; any problem leaves it undone,
 * and the normal path does everything as without it. For `check`, the worker thread that mixed the lanes (if
 * any) is kept once they are done, for its verify worker ({@link takeEarlyThread}).
 */
export function startEarlyKeyDerivation(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): void {
  try {
    const target = earlyKeyTarget(argv, env)
    if (target === undefined || !statSync(join(target.repository, 'config')).isFile()) return
    const dir = join(target.repository, 'keys')
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isFile() || !ID.test(entry.name)) continue
      const found = keyFileParams(entry.name, readFileSync(join(dir, entry.name)))
      if (found === undefined) continue
      const password = new TextEncoder().encode(target.password)
      const keepThread = KEEPS_THREAD.has(target.command) ? (thread: Worker): void => void (kept = thread) : undefined
      const result = scryptBytes(password, found.salt, found.params, { lessMemory: true, mainThreadLane: true, ...(keepThread ? { keepThread } : {}) }).then(
        (key): Uint8Array | undefined => key,
        () => undefined,
      )
      started = { password, salt: found.salt, params: found.params, result }
      return
    }
  } catch {
    // anything unusual (no keys/ folder, unreadable files, ...): the normal path does it all, and reports it
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * The early derivation's 64 bytes of `scrypt(password, salt, N, r, p)`, taken once, if one was started with
 * exactly this password, salt and parameters; else undefined at once (the caller derives itself). The
 * promise never rejects: it gives undefined when the early scrypt failed.
 */
export function takeEarlyKey(password: string | Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array | undefined> | undefined {
  const s = started
  if (s === undefined || s.params.N !== params.N || s.params.r !== params.r || s.params.p !== params.p || !equalBytes(s.salt, salt)) return undefined
  const bytes = typeof password === 'string' ? new TextEncoder().encode(password) : password
  const same = equalBytes(s.password, bytes)
  if (typeof password === 'string') bytes.fill(0)
  if (!same) return undefined
  started = undefined
  s.password.fill(0)
  return s.result
}

/**
 * The worker thread the early derivation mixed its lanes on, idle and kept for the command (`check`: it runs
 * its verify worker there, see the check options' `idleThreads`), taken once; the taker ends it. Undefined if
 * none was kept (no early derivation, OpenSSL derived the key, another command).
 */
export function takeEarlyThread(): Worker | undefined {
  const thread = kept
  kept = undefined
  return thread
}
