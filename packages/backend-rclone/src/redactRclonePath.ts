/** A parameter value of a connection-string remote: where it is in the path (with its quotes) and its text. */
interface ParamValue {
  start: number
  end: number
  value: string
}

/**
 * The parameter values of a connection-string remote (`:s3,access_key_id=AK,secret_access_key=...:bucket`
 * or `remote,param=value:path`): every `,key=value` after the backend name, quoted (`"..."` or `'...'`,
 * a doubled quote standing for one) or running to the next `,` or `:`. Values after the first `:` count
 * too: an unquoted `url=http://host/` ends the remote's name early, and what follows (`user=...,pass=...`)
 * is still the user's secret. Plain remotes (`remote:path`) and local paths have none.
 */
function paramValues(path: string): ParamValue[] {
  let i = path.startsWith(':') ? 1 : 0
  for (; i < path.length && path[i] !== ',' && path[i] !== ':'; i++) {
    if (path[i] === '/') return [] // a local path
  }
  if (path[i] !== ',') return []
  const out: ParamValue[] = []
  while (i < path.length) {
    const m = path[i] === ',' ? /^,[A-Za-z0-9_-]+=/.exec(path.slice(i)) : null
    if (!m) {
      i++
      continue
    }
    const start = i + m[0].length
    let j = start
    let value = ''
    const quote = path[start]
    if (quote === '"' || quote === "'") {
      for (j = start + 1; j < path.length; j++) {
        if (path[j] !== quote) value += path[j]
        else if (path[j + 1] === quote) value += path[++j]
        else {
          j++
          break
        }
      }
    } else {
      while (j < path.length && path[j] !== ',' && path[j] !== ':') j++
      value = path.slice(start, j)
    }
    out.push({ start, end: j, value })
    i = j
  }
  return out
}

/**
 * An rclone path safe to print: the parameter values of a connection-string remote
 * (`:s3,access_key_id=AKIA...,secret_access_key=...:bucket/repo` or `remote,param=value:path`) become `***`.
 * Plain remotes (`remote:path`) and local paths are returned unchanged.
 */
export function redactRclonePath(path: string): string {
  let out = path
  for (const v of paramValues(path).reverse()) out = `${out.slice(0, v.start)}***${out.slice(v.end)}`
  return out
}

/** A string as Go's `%q` (and JSON) escape it, without the surrounding quotes: `\` and `"` escaped. */
function goEscaped(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')
}

/**
 * Removes the secrets of an rclone path from text rclone wrote (its log lines and errors): the path
 * itself, as given or as Go quotes it, becomes its {@link redactRclonePath} form, and then every
 * parameter value becomes `***` wherever it appears, as given, escaped, or URL-encoded. Redacting by
 * the values catches them however rclone quotes, escapes or rearranges the path.
 */
export function redactRcloneText(text: string, path: string): string {
  const values = paramValues(path)
  if (values.length === 0) return text
  const printable = redactRclonePath(path)
  let out = text.split(goEscaped(path)).join(printable).split(path).join(printable)
  const forms = new Set<string>()
  for (const { value } of values) {
    if (value === '') continue
    forms.add(value)
    forms.add(goEscaped(value))
    forms.add(encodeURIComponent(value))
  }
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join('***')
  return out
}
