/** A key's place in a TOML document: table names, keys and array indexes from the root. */
export type TomlPath = ReadonlyArray<string | number>

/** Where the keys of a TOML document are: see {@link tomlKeyLines}. */
export interface TomlKeyLines {
  /**
   * The 1-based line of the key at `path`, or of the nearest enclosing key or table header the
   * document names (a key inside an inline table falls back to the line of the table's key).
   */
  lineOf(path: TomlPath): number | undefined
}

const key = (path: TomlPath): string => JSON.stringify(path)

/**
 * Finds the line of every key, table header and array element of a TOML document that a TOML parser
 * has accepted (smol-toml reports positions only for syntax errors). Only positions are worked out:
 * values are skipped, strings (also multi-line ones) and comments included.
 */
export function tomlKeyLines(text: string): TomlKeyLines {
  const lines = new Map<string, number>()
  /** How many `[[x]]` tables each array of tables has so far. */
  const arrayTables = new Map<string, number>()
  let i = 0
  let line = 1
  const n = text.length

  const record = (path: TomlPath): void => {
    const k = key(path)
    if (!lines.has(k)) lines.set(k, line)
  }
  const skipSpaces = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++
  }
  /** Skips spaces, newlines and comments. */
  const skipBlank = (): void => {
    for (;;) {
      skipSpaces()
      if (text[i] === '#') while (i < n && text[i] !== '\n') i++
      if (text[i] === '\r' && text[i + 1] === '\n') i++
      if (text[i] === '\n') {
        i++
        line++
        continue
      }
      return
    }
  }
  /** A string starting at `i` (basic, literal, or multi-line): its value for keys, skipped for values. */
  const readString = (): string => {
    const quote = text[i]!
    if (text.startsWith(quote.repeat(3), i)) {
      const end = text.indexOf(quote.repeat(3), i + 3)
      let stop = end < 0 ? n : end + 3
      while (text[stop] === quote) stop++ // up to two quotes may close the content
      for (let j = i; j < stop; j++) if (text[j] === '\n') line++
      const raw = text.slice(i + 3, stop - 3)
      i = stop
      return raw
    }
    let j = i + 1
    while (j < n && text[j] !== quote && text[j] !== '\n') j += quote === '"' && text[j] === '\\' ? 2 : 1
    const raw = text.slice(i, j + 1)
    i = j + 1
    if (quote === "'") return raw.slice(1, -1)
    try {
      return JSON.parse(raw) as string
    } catch {
      return raw.slice(1, -1)
    }
  }
  /** A dotted key (`a."b c".d`) as its parts. */
  const readKey = (): string[] => {
    const parts: string[] = []
    for (;;) {
      skipSpaces()
      if (text[i] === '"' || text[i] === "'") parts.push(readString())
      else {
        const start = i
        while (i < n && /[A-Za-z0-9_-]/.test(text[i]!)) i++
        parts.push(text.slice(start, i))
      }
      skipSpaces()
      if (text[i] !== '.') return parts
      i++
    }
  }
  /** A header's key with the current index of every array of tables on its way (`backup.snapshots` → `backup.snapshots[1]`). */
  const resolve = (parts: string[]): Array<string | number> => {
    const out: Array<string | number> = []
    for (const p of parts) {
      out.push(p)
      const count = arrayTables.get(key(out))
      if (count !== undefined) out.push(count - 1)
    }
    return out
  }
  const skipValue = (path: TomlPath): void => {
    skipSpaces()
    const c = text[i]
    if (c === '"' || c === "'") {
      readString()
    } else if (c === '[') {
      i++
      for (let index = 0; ; index++) {
        skipBlank()
        if (i >= n || text[i] === ']') break
        record([...path, index])
        skipValue([...path, index])
        skipBlank()
        if (text[i] === ',') i++
      }
      i++
    } else if (c === '{') {
      i++
      for (;;) {
        skipBlank()
        if (i >= n || text[i] === '}') break
        const k = [...path, ...readKey()]
        record(k)
        skipSpaces()
        if (text[i] === '=') i++
        skipValue(k)
        skipBlank()
        if (text[i] === ',') i++
      }
      i++
    } else {
      while (i < n && !/[,\]}\r\n#]/.test(text[i]!)) i++
    }
  }

  let table: Array<string | number> = []
  while (i < n) {
    skipBlank()
    if (i >= n) break
    if (text[i] === '[') {
      const isArray = text[i + 1] === '['
      i += isArray ? 2 : 1
      const parts = readKey()
      i += isArray ? 2 : 1
      if (isArray) {
        const parent = resolve(parts.slice(0, -1))
        const name = [...parent, parts[parts.length - 1]!]
        const count = (arrayTables.get(key(name)) ?? 0) + 1
        arrayTables.set(key(name), count)
        record(name)
        table = [...name, count - 1]
      } else {
        table = resolve(parts)
      }
      record(table)
    } else {
      const k = [...table, ...readKey()]
      record(k)
      skipSpaces()
      if (text[i] === '=') i++
      skipValue(k)
    }
    // the rest of the line (a comment)
    skipSpaces()
    if (text[i] === '#') while (i < n && text[i] !== '\n') i++
    if (i < n && text[i] !== '\n' && text[i] !== '\r') i++ // not TOML the parser accepted: move on
  }

  return {
    lineOf(path) {
      for (let len = path.length; len > 0; len--) {
        const l = lines.get(key(path.slice(0, len)))
        if (l !== undefined) return l
      }
      return undefined
    },
  }
}
