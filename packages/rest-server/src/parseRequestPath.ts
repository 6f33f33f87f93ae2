import { isId } from '@rustic-ts/core'
import type { FileType, Id } from '@rustic-ts/core'

/** The directory names of the REST protocol and the file types they hold. */
export const REST_DIRS: Readonly<Record<string, FileType>> = {
  data: 'pack',
  index: 'index',
  keys: 'key',
  locks: 'lock',
  snapshots: 'snapshot',
}

/** The REST directory name of each file type (`pack` -> `data`). */
export const REST_DIR_OF: Readonly<Record<FileType, string>> = {
  config: 'config',
  pack: 'data',
  index: 'index',
  key: 'keys',
  lock: 'locks',
  snapshot: 'snapshots',
}

/** What a request path names inside a repository. */
export type RestResource =
  | { kind: 'root' }
  | { kind: 'config' }
  | { kind: 'dir'; type: FileType }
  | { kind: 'file'; type: FileType; id: Id }

/** A request path split into the repository (0 to `maxDepth` names) and the resource inside it. */
export interface RestTarget {
  /** The repository's path below the server root (`[]` for the root itself, `['alice', 'laptop']`). */
  repo: string[]
  /** What the rest of the path names. */
  resource: RestResource
}

/** The outcome of {@link parseRequestPath}: a target, or the HTTP status to refuse the path with. */
export type ParsedRequestPath = { ok: true; target: RestTarget } | { ok: false; status: 400 | 404; reason: string }

/**
 * Splits a request path (`req.url` without the query) like rest-server does: up to `maxDepth` leading
 * names that are not protocol names (`config`, `data`, `index`, `keys`, `locks`, `snapshots`) and are
 * not the last segment form the repository path; the rest must be `/`, `config`, `<dir>/` or
 * `<dir>/<64 hex id>`.
 *
 * Every segment is percent-decoded once and must then be a plain name: segments that are `.`/`..`,
 * start with `.`, or contain `/`, `\`, NUL or other control characters are refused with 400 (so
 * `../`, `%2e%2e/` and `%2f` never reach storage); a path that is well-formed but names nothing is 404.
 */
export function parseRequestPath(rawPath: string, maxDepth = 2): ParsedRequestPath {
  if (!rawPath.startsWith('/')) return { ok: false, status: 400, reason: 'the path does not start with /' }
  const raw = rawPath.slice(1).split('/')
  const segments: string[] = []
  for (let i = 0; i < raw.length; i++) {
    let s: string
    try {
      s = decodeURIComponent(raw[i]!)
    } catch {
      return { ok: false, status: 400, reason: 'malformed percent-encoding' }
    }
    if (s === '') {
      if (i === raw.length - 1) {
        segments.push(s) // the trailing slash
        continue
      }
      return { ok: false, status: 404, reason: 'empty path segment' }
    }
    if (!isPlainName(s)) return { ok: false, status: 400, reason: 'invalid path segment' }
    segments.push(s)
  }
  const repo: string[] = []
  let i = 0
  while (repo.length < maxDepth && i < segments.length - 1 && !isProtocolName(segments[i]!)) repo.push(segments[i++]!)
  const rest = segments.slice(i)
  const notFound = { ok: false, status: 404, reason: 'no such resource' } as const
  let resource: RestResource
  if (rest.length === 1 && rest[0] === '') resource = { kind: 'root' }
  else if (rest.length === 1 && rest[0] === 'config') resource = { kind: 'config' }
  else if (rest.length === 2 && Object.hasOwn(REST_DIRS, rest[0]!)) {
    const type = REST_DIRS[rest[0]!]!
    const name = rest[1]!
    if (name === '') resource = { kind: 'dir', type }
    else if (isId(name)) resource = { kind: 'file', type, id: name }
    else return notFound
  } else return notFound
  return { ok: true, target: { repo, resource } }
}

function isProtocolName(s: string): boolean {
  return s === 'config' || Object.hasOwn(REST_DIRS, s)
}

/** A name that is safe as one path component on every storage: no dots first, no separators or controls. */
function isPlainName(s: string): boolean {
  if (s.startsWith('.') || s.length > 255) return false
  // eslint-disable-next-line no-control-regex
  return !/[/\\\x00-\x1f\x7f]/.test(s)
}
