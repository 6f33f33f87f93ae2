/**
 * Go's `path/filepath` functions (Unix) on "binary strings": one char per byte (latin1), so that file
 * names that are not valid UTF-8 survive and plain string comparison orders names by their bytes, as
 * Go's `sort.Strings` does.
 */

/** A binary string (one char per byte) from a path given as a JS string (its UTF-8 bytes). */
export function toBinary(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1')
}

/** The bytes of a binary string, for `node:fs` calls. */
export function binaryBytes(bin: string): Buffer {
  return Buffer.from(bin, 'latin1')
}

/** Go `filepath.Clean`: lexical cleaning (`//`, `.`, `..`, trailing `/`); `''` becomes `.`. */
export function goClean(p: string): string {
  if (p === '') return '.'
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }
    out.push(part)
  }
  const joined = out.join('/')
  if (rooted) return '/' + joined
  return joined === '' ? '.' : joined
}

/** Go `filepath.Join`: joins the non-empty elements with `/` and cleans the result. */
export function goJoin(...elems: string[]): string {
  const nonEmpty = elems.filter((e) => e !== '')
  return nonEmpty.length === 0 ? '' : goClean(nonEmpty.join('/'))
}

/** Go `filepath.Dir`: all but the last element, cleaned (`.` if there is no slash). */
export function goDir(p: string): string {
  const i = p.lastIndexOf('/')
  return goClean(p.slice(0, i + 1))
}

/** Go `filepath.Base`: the last element (trailing slashes removed); `.` for `''`, `/` for all slashes. */
export function goBase(p: string): string {
  if (p === '') return '.'
  while (p.length > 0 && p.endsWith('/')) p = p.slice(0, -1)
  if (p === '') return '/'
  return p.slice(p.lastIndexOf('/') + 1)
}

/** Go `filepath.IsAbs` on Unix. */
export function goIsAbs(p: string): boolean {
  return p.startsWith('/')
}

/** Go `filepath.Abs`: `p` joined to `cwd` unless absolute, cleaned. */
export function goAbs(p: string, cwd: string): string {
  return goIsAbs(p) ? goClean(p) : goJoin(cwd, p)
}

/**
 * restic's `pathComponents`: the elements of `p`. Unless `includeRelative`, a relative path is first
 * rooted at `/`, so that leading `..` elements vanish.
 */
export function pathComponents(p: string, includeRelative: boolean): string[] {
  if (!goIsAbs(p) && !includeRelative) p = '/' + p
  p = goClean(p)
  const components: string[] = []
  for (;;) {
    const dir = goDir(p)
    const file = goBase(p)
    if (p === dir) break
    components.push(file)
    p = dir
  }
  return components.reverse()
}

/** restic's `rootDirectory`: `/` for an absolute path, else `.` followed by its leading `..` elements. */
export function rootDirectory(target: string): string {
  if (target === '') return ''
  if (goIsAbs(target)) return '/'
  let rel = '.'
  for (const c of pathComponents(goClean(target), true)) if (c === '..') rel = goJoin(rel, c)
  return rel
}
