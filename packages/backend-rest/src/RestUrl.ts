import { RusticError } from '@rustic-ts/core'

/** A REST repository URL split into what the client needs. */
export interface RestUrl {
  /** The base URL without credentials; its path ends with `/`. */
  baseUrl: URL
  /** `Basic ...` from the URL's user info, if it had any. */
  authorization?: string
  /** `rest:` + the URL without the password (the user name stays): safe to print. */
  location: string
}

/**
 * Parses a REST repository URL `http[s]://[user[:password]@]host[:port][/path][/]` (a leading `rest:`
 * is accepted and dropped). User name and password (percent-encoded in the URL) become an HTTP Basic
 * `Authorization` value; they never appear in `location` or in error messages.
 * @throws RusticError `Configuration` if the URL is not an http(s) URL.
 */
export function parseRestUrl(url: string): RestUrl {
  const raw = url.startsWith('rest:') ? url.slice('rest:'.length) : url
  let u: URL
  try {
    u = new URL(raw)
  } catch (err) {
    throw new RusticError(
      'Configuration',
      'invalid REST repository URL: expected rest:http[s]://[user:password@]host[:port]/path/ (URL not shown: it may hold a password)',
      { code: 'InvalidUrl', cause: err instanceof Error ? new Error(err.name) : undefined },
    )
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new RusticError('Configuration', `invalid REST repository URL: scheme "${u.protocol}" is not http: or https:`, {
      code: 'InvalidUrl',
    })
  }
  if (u.search !== '') {
    throw new RusticError('Configuration', 'invalid REST repository URL: a query string ("?...") is not allowed', {
      code: 'InvalidUrl',
    })
  }
  let authorization: string | undefined
  if (u.username !== '' || u.password !== '') {
    const user = safeDecode(u.username)
    const pass = safeDecode(u.password)
    authorization = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`
  }
  const userPart = u.username !== '' ? `${u.username}@` : ''
  u.username = ''
  u.password = ''
  u.hash = ''
  if (!u.pathname.endsWith('/')) u.pathname += '/'
  const location = `rest:${u.protocol}//${userPart}${u.host}${u.pathname}`
  return authorization === undefined ? { baseUrl: u, location } : { baseUrl: u, authorization, location }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
