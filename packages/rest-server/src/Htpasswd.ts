import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { compare } from 'bcryptjs'
import { RusticError } from '@rustic-ts/core'
import type { WarningHandler } from '@rustic-ts/core'

/** User names rest-server accepts in an htpasswd file (letters, digits, `@`, `.`, `_`, `-`). */
const VALID_USER = /^[\p{L}\d@._-]+$/u
const BCRYPT = /^\$2[aby]\$/
const SHA = '{SHA}'
/** How long a verified user/password pair is remembered (as rest-server: one minute). */
const CACHE_MS = 60_000
/** How often the file is checked for changes at most (as rest-server: 30 s). */
const RECHECK_MS = 30_000
/** Compared against when the user is unknown, so that unknown users take as long as wrong passwords. */
const DUMMY_BCRYPT = '$2b$10$4LRT7sQkSMKGS.zmKs.HYOCUVhpkDDyH1wtEtMojBaDU/lOUHEviO'

/**
 * An htpasswd file (`user:hash` lines, `#` comments) with the hash formats rest-server accepts: bcrypt
 * (`$2a$`, `$2b$`, `$2y$`, from `htpasswd -B`) and SHA-1 (`{SHA}`, from `htpasswd -s`). Entries in other
 * formats or with invalid user names are skipped with a warning that names the line and user, never
 * the hash. Verified credentials are remembered for a minute (as an HMAC under a per-process key, not
 * the password), so bcrypt runs about once a minute per user; the file is re-read when it changed
 * (checked at most every 30 s) or on {@link Htpasswd.reload}.
 */
export class Htpasswd {
  private users = new Map<string, string>()
  private readonly cache = new Map<string, { verifier: Buffer; expires: number }>()
  private readonly cacheKey = randomBytes(32)
  private stamp = ''
  private nextCheck = 0

  /**
   * Reads the file.
   * @param path - the htpasswd file.
   * @param onWarning - receives a message for each skipped entry and for failed re-reads.
   * @throws RusticError `Configuration` (code `HtpasswdUnreadable`) if the file cannot be read.
   */
  constructor(
    readonly path: string,
    private readonly onWarning: WarningHandler = () => {},
  ) {
    this.load()
  }

  /** Number of usable entries. */
  get size(): number {
    return this.users.size
  }

  /** Re-reads the file now; on failure the previous entries stay and the error is thrown. */
  reload(): void {
    this.load()
  }

  private load(): void {
    let text: string
    let stamp: string
    try {
      const st = statSync(this.path)
      stamp = `${st.mtimeMs}:${st.size}`
      text = readFileSync(this.path, 'utf8')
    } catch (err) {
      throw new RusticError('Configuration', `cannot read htpasswd file ${this.path} (use --no-auth to turn authentication off): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
        code: 'HtpasswdUnreadable',
        cause: err,
      })
    }
    const users = new Map<string, string>()
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim()
      if (line === '' || line.startsWith('#')) return
      const colon = line.indexOf(':')
      const user = colon < 0 ? line : line.slice(0, colon)
      const hash = colon < 0 ? '' : (line.slice(colon + 1).split(':')[0] ?? '').trim()
      const where = `htpasswd file ${this.path} line ${i + 1}`
      if (!VALID_USER.test(user)) {
        this.onWarning(`${where}: skipped: the user name may only hold letters, digits, '@', '.', '_' and '-'`)
      } else if (!BCRYPT.test(hash) && !hash.startsWith(SHA)) {
        this.onWarning(`${where}: skipped user "${user}": unsupported hash format (use bcrypt, htpasswd -B, or SHA, htpasswd -s)`)
      } else {
        users.set(user, hash)
      }
    })
    this.users = users
    this.cache.clear()
    this.stamp = stamp
    this.nextCheck = Date.now() + RECHECK_MS
  }

  /** Re-reads the file if it changed since it was read (at most every 30 s). */
  private recheck(): void {
    const now = Date.now()
    if (now < this.nextCheck) return
    this.nextCheck = now + RECHECK_MS
    try {
      const st = statSync(this.path)
      if (`${st.mtimeMs}:${st.size}` !== this.stamp) this.load()
    } catch (err) {
      this.onWarning(`cannot re-read htpasswd file ${this.path}; keeping the entries read before`, err)
    }
  }

  /** True if `password` is the password of `user`. */
  async verify(user: string, password: string): Promise<boolean> {
    this.recheck()
    const hash = this.users.get(user)
    const verifier = createHmac('sha256', this.cacheKey).update(user).update('\0').update(password).digest()
    if (hash === undefined) {
      await compare(password, DUMMY_BCRYPT)
      return false
    }
    const cached = this.cache.get(user)
    const now = Date.now()
    if (cached !== undefined && cached.expires > now && timingSafeEqual(cached.verifier, verifier)) {
      cached.expires = now + CACHE_MS
      return true
    }
    const ok = await matches(hash, password)
    if (ok) {
      this.cache.set(user, { verifier, expires: now + CACHE_MS })
      if (this.cache.size > 1000) this.pruneCache(now)
    }
    return ok
  }

  private pruneCache(now: number): void {
    for (const [u, e] of this.cache) if (e.expires <= now) this.cache.delete(u)
  }
}

async function matches(hash: string, password: string): Promise<boolean> {
  if (hash.startsWith(SHA)) {
    const want = Buffer.from(hash.slice(SHA.length), 'base64')
    const got = createHash('sha1').update(password).digest()
    return want.length === got.length && timingSafeEqual(want, got)
  }
  return compare(password, hash)
}
