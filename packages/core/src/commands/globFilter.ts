import picomatch from 'picomatch'
import { checkPattern } from '../archiver/excludes/ExcludePatterns.js'

/** Options of {@link globMatcher}. */
export interface GlobMatcherOptions {
  /** Match case-insensitively (restic's `--iinclude` / `--iexclude` / `find -i`). */
  ignoreCase?: boolean
  /** Names the patterns in errors (`include`, `exclude`; default `path`). */
  what?: string
}

/**
 * A matcher for restic-style path patterns (picomatch globs) over `/`-separated paths that start with `/`.
 * As restic's `filter.Match`: a pattern starting with `/` is anchored at the root, any other pattern
 * matches at any depth (`a*` matches `/x/a.txt`, `d/*.txt` matches `/p/d/x.txt`); a pattern that matches a
 * directory also matches everything below it. With no patterns the matcher matches nothing. A malformed
 * pattern (an unterminated `[`, a trailing `\`) throws `InvalidInput` (code `InvalidPattern`), as backup's
 * excludes do.
 */
export function globMatcher(patterns: readonly string[], options: GlobMatcherOptions = {}): (path: string) => boolean {
  for (const p of patterns) checkPattern(p, options.what ?? 'path')
  if (patterns.length === 0) return () => false
  const globs: string[] = []
  for (const raw of patterns) {
    const p = raw.replace(/\/+$/, '')
    if (p === '') {
      globs.push('**')
      continue
    }
    const base = p.startsWith('/') ? p : `**/${p}`
    globs.push(base, `${base}/**`)
  }
  const match = picomatch(globs, { dot: true, nocase: options.ignoreCase ?? false })
  return (path: string) => match(path)
}

/** Include/exclude patterns, as restore and find take them. */
export interface PathFilterPatterns {
  /** Only paths matching one of these (or lying below a match) are selected; empty selects everything. */
  include?: readonly string[]
  /** Paths matching one of these (or lying below a match) are not selected. */
  exclude?: readonly string[]
  /** Match case-insensitively. */
  ignoreCase?: boolean
}

/**
 * restic's include/exclude selection: a path is selected if it matches an include pattern (or no include
 * patterns are given) and matches no exclude pattern. Paths are `/`-separated and start with `/`.
 */
export function pathFilter(patterns: PathFilterPatterns): (path: string) => boolean {
  const include = patterns.include ?? []
  const exclude = patterns.exclude ?? []
  const ignoreCase = patterns.ignoreCase ?? false
  const inc = include.length > 0 ? globMatcher(include, { ignoreCase, what: 'include' }) : () => true
  const exc = exclude.length > 0 ? globMatcher(exclude, { ignoreCase, what: 'exclude' }) : () => false
  if (include.length === 0 && exclude.length === 0) return () => true
  return (path: string) => inc(path) && !exc(path)
}
