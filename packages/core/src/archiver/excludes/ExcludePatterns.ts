import picomatch from 'picomatch'
import { RusticError } from '../../error/RusticError.js'
import { goClean } from '../sources/goPath.js'

interface Part {
  /** `/` for the root of an absolute pattern; `''` for `**`. */
  text: string
  /** The compiled glob, unless the part is matched literally. */
  re?: RegExp
}

interface Pattern {
  original: string
  parts: Part[]
  negated: boolean
}

const PICOMATCH_OPTIONS: picomatch.PicomatchOptions = { dot: true, nobrace: true, noextglob: true, nonegate: true }
const STAR: Part = { text: '*', re: compileGlob('*', '*', 'exclude') }

/**
 * Rewrites one path element of a Go `filepath.Match` pattern for picomatch: `(){}+@!|` are literal in
 * Go, so they are escaped; in a class `[...]` only `^` negates (a leading `!` is literal). Throws on an
 * unterminated class or a trailing `\`, which Go rejects too.
 */
function goGlobToPicomatch(glob: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '\\') {
      if (i + 1 >= glob.length) throw new Error('trailing backslash')
      out += '\\' + glob[++i]
    } else if (c === '[') {
      let j = i + 1
      let cls = '['
      if (glob[j] === '^') cls += glob[j++]
      else if (glob[j] === '!') (cls += '\\!'), j++
      for (; j < glob.length && glob[j] !== ']'; j++) {
        if (glob[j] === '\\' && j + 1 < glob.length) cls += '\\' + glob[++j]
        else cls += glob[j]
      }
      if (j >= glob.length) throw new Error('unterminated [')
      out += cls + ']'
      i = j
    } else if ('(){}+@!|'.includes(c)) {
      out += '\\' + c
    } else {
      out += c
    }
  }
  return out
}

function compileGlob(part: string, original: string, what: string): RegExp {
  try {
    return picomatch.makeRe(goGlobToPicomatch(part), PICOMATCH_OPTIONS)
  } catch (e) {
    throw new RusticError('InvalidInput', `invalid ${what} pattern "${original}": ${(e as Error).message}`, { code: 'InvalidPattern', cause: e })
  }
}

/** Go's `splitPath`: elements of a cleaned path; an absolute path starts with the element `/`. */
function splitPath(p: string): string[] {
  const parts = p.split('/')
  if (parts[0] === '') parts[0] = '/'
  return parts
}

function parsePattern(original: string, what = 'exclude'): Pattern {
  let s = original
  const negated = s.startsWith('!')
  if (negated) s = s.slice(1)
  const parts = splitPath(goClean(s)).map((p): Part => {
    if (p === '**' || p === '') return { text: '' }
    return /[\\[\]*?]/.test(p) ? { text: p, re: compileGlob(p, original, what) } : { text: p }
  })
  return { original, parts, negated }
}

/**
 * Checks a path pattern by restic's rules (Go `filepath.Match` syntax in each element): throws
 * `InvalidInput` (code `InvalidPattern`, `invalid <what> pattern "[": unterminated [`) for an unterminated
 * `[` or a trailing `\`. Backup's excludes and restore's and find's include/exclude patterns are checked
 * alike.
 * @param what - names the pattern's kind in the message (`exclude`, `include`).
 */
export function checkPattern(pattern: string, what = 'exclude'): void {
  if (pattern !== '') parsePattern(pattern, what)
}

function partMatches(part: Part, s: string): boolean {
  return part.re ? part.re.test(s) : part.text === s
}

/** restic's `filter.match`: `**` expands to any number of elements; unanchored patterns match any run of elements. */
function matchParts(parts: Part[], strs: string[]): boolean {
  const pos = parts.findIndex((p) => p.text === '')
  if (pos >= 0) {
    for (let i = 0; i <= strs.length - parts.length + 1; i++) {
      const expanded = [...parts.slice(0, pos), ...new Array<Part>(i).fill(STAR), ...parts.slice(pos + 1)]
      if (matchParts(expanded, strs)) return true
    }
    return false
  }
  if (parts.length === 0) return strs.length === 0
  if (parts.length > strs.length) return false
  let minOffset = 0
  let maxOffset = strs.length - parts.length
  if (parts[0]!.text === '/' && !parts[0]!.re) maxOffset = 0
  else if (strs[0] === '/') minOffset = 1
  outer: for (let offset = maxOffset; offset >= minOffset; offset--) {
    for (let i = parts.length - 1; i >= 0; i--) {
      if (!partMatches(parts[i]!, strs[offset + i]!)) continue outer
    }
    return true
  }
  return false
}

/** Options of {@link ExcludePatterns}. */
export interface ExcludePatternsOptions {
  /** Compare case-insensitively (restic's `--iexclude`): patterns and paths are lower-cased. */
  ignoreCase?: boolean
}

/**
 * A list of exclude patterns with restic's semantics (`--exclude`, `internal/filter`):
 * - patterns match whole path elements of the absolute path, with Go `filepath.Match` syntax inside an
 *   element (`*`, `?`, `[a-z]`, `[^a-z]`, `\` escapes; compiled with picomatch);
 * - a pattern starting with `/` is anchored at the root, any other (even `foo/bar`) matches any run of
 *   elements: `foo` matches `/a/foo` and `/a/foo/b`, not `/a/foobar`;
 * - `**` matches any number of elements (`foo/**\/bar` matches `/foo/bar` and `/x/foo/a/b/bar`);
 * - a trailing `/` is ignored, empty patterns are ignored;
 * - `!pattern` cancels a match of the patterns before it (an excluded directory's contents stay excluded,
 *   as they are never visited).
 */
export class ExcludePatterns {
  private readonly patterns: Pattern[]
  private readonly hasNegated: boolean
  private readonly ignoreCase: boolean

  /** Throws `InvalidInput` for a malformed pattern (an unterminated `[`, a trailing `\`). */
  constructor(patterns: readonly string[], options: ExcludePatternsOptions = {}) {
    this.ignoreCase = options.ignoreCase ?? false
    this.patterns = patterns.filter((p) => p !== '').map((p) => parsePattern(this.ignoreCase ? p.toLowerCase() : p))
    this.hasNegated = this.patterns.some((p) => p.negated)
  }

  /** True if there are no patterns. */
  get isEmpty(): boolean {
    return this.patterns.length === 0
  }

  /** True if `path` (absolute, cleaned, `/`-separated) is excluded. */
  matches(path: string): boolean {
    if (this.patterns.length === 0 || path === '') return false
    const strs = splitPath(this.ignoreCase ? path.toLowerCase() : path)
    let matched = false
    for (const pat of this.patterns) {
      const m = matchParts(pat.parts, strs)
      if (pat.negated) {
        matched = matched && !m
      } else {
        matched = matched || m
        if (matched && !this.hasNegated) break
      }
    }
    return matched
  }
}
