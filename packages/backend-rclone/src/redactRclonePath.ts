/**
 * An rclone path safe to print: the parameter values of a connection-string remote
 * (`:s3,access_key_id=AKIA...,secret_access_key=...:bucket/repo` or `remote,param=value:path`) become `***`.
 * Plain remotes (`remote:path`) and local paths are returned unchanged.
 */
export function redactRclonePath(path: string): string {
  let quote: string | undefined
  const start = path.startsWith(':') ? 1 : 0
  let end = -1
  for (let i = start; i < path.length; i++) {
    const c = path[i]!
    if (quote !== undefined) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === ':') {
      end = i
      break
    } else if (c === '/' && !path.slice(start, i).includes(',')) return path // a local path
  }
  if (end < 0) return path
  const spec = path.slice(0, end)
  if (!spec.includes(',')) return path
  const parts = splitOutsideQuotes(spec)
  const redacted = [parts[0], ...parts.slice(1).map((p) => (p.includes('=') ? `${p.slice(0, p.indexOf('='))}=***` : p))]
  return `${redacted.join(',')}${path.slice(end)}`
}

function splitOutsideQuotes(s: string): string[] {
  const out: string[] = []
  let cur = ''
  let quote: string | undefined
  for (const c of s) {
    if (quote !== undefined) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === ',') {
      out.push(cur)
      cur = ''
      continue
    }
    cur += c
  }
  out.push(cur)
  return out
}
