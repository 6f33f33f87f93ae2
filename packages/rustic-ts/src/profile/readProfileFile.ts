import { readFile } from 'node:fs/promises'
import { parse as parseToml, TomlError } from 'smol-toml'
import { z } from 'zod'
import { RusticError } from '@rustic-ts/core'
import { IGNORED_SECTIONS, kebabCase, KEYS_ELSEWHERE, PROFILE_FIELDS, type ProfileField, type ProfileFields } from './ProfileSchema.js'
import { tomlKeyLines, type TomlKeyLines, type TomlPath } from './tomlKeyLines.js'

/** A profile's settings: its sections and keys camelCase as in the library, values as the file gives them. */
export type ProfileSettings = Record<string, unknown>

/** One profile file, read and checked. */
export interface ProfileFile {
  /** The file's path. */
  path: string
  /** Its settings. */
  settings: ProfileSettings
  /** The line of a key, for messages about it (`backup.snapshots[0].sources`). */
  lineOf(path: TomlPath): number | undefined
  /** Sections read past (for commands rustic-ts does not have), one message each. */
  warnings: string[]
}

/**
 * Reads a profile file and checks every key and value against {@link PROFILE_FIELDS}.
 * @throws RusticError `InvalidProfile` (one line: the file and line, then the key and what is wrong) for
 *   a TOML syntax error, an unknown key or a value of the wrong type; a file system error as it is.
 */
export async function readProfileFile(path: string): Promise<ProfileFile> {
  return parseProfile(await readFile(path, 'utf8'), path)
}

/** {@link readProfileFile} for a text already read; `path` names it in messages. */
export function parseProfile(text: string, path: string): ProfileFile {
  let doc: Record<string, unknown>
  try {
    doc = parseToml(text) as Record<string, unknown>
  } catch (e) {
    if (!(e instanceof TomlError)) throw e
    const what = e.message.replace(/^Invalid TOML document: /, '').split('\n')[0]
    throw new RusticError('Configuration', `${path}:${e.line}:${e.column}: invalid TOML: ${what}`, { code: 'InvalidProfile', cause: e })
  }
  const lines = tomlKeyLines(text)
  const warnings: string[] = []
  const settings: ProfileSettings = {}
  for (const [name, value] of Object.entries(doc)) {
    if (IGNORED_SECTIONS.includes(name)) {
      warnings.push(`${where(path, lines, [name])}: [${name}] is for a command rustic-ts does not have: ignored`)
      continue
    }
    const camel = camelKey(name, PROFILE_FIELDS)
    if (camel === undefined) throw unknownKey(path, lines, [], name, PROFILE_FIELDS, 'section')
    settings[camel] = checkField(value, PROFILE_FIELDS[camel]!, [name], path, lines)
  }
  return { path, settings, lineOf: (p) => lines.lineOf(p), warnings }
}

/** `file:line` of a key (just the file when the line is not known). */
function where(path: string, lines: TomlKeyLines, at: TomlPath): string {
  const line = lines.lineOf(at)
  return line === undefined ? path : `${path}:${line}`
}

/** `backup.snapshots[1].sources` */
function dotted(at: TomlPath): string {
  return at.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

/** The table a path is in, as a TOML header: `[backup]`, `[[backup.snapshots]]`, or the top level. */
function tableName(at: TomlPath): string {
  if (at.length === 0) return 'the top level'
  const last = at[at.length - 1]
  return typeof last === 'number' ? `[[${dotted(at.slice(0, -1))}]]` : `[${dotted(at)}]`
}

/** The camelCase field a kebab-case key names (files must use kebab-case). */
function camelKey(key: string, fields: ProfileFields): string | undefined {
  return Object.keys(fields).find((f) => kebabCase(f) === key)
}

function invalid(message: string, cause?: unknown): RusticError {
  return new RusticError('Configuration', message, { code: 'InvalidProfile', cause })
}

function unknownKey(path: string, lines: TomlKeyLines, at: TomlPath, key: string, fields: ProfileFields, what = 'key'): RusticError {
  const elsewhere = at.length === 1 ? KEYS_ELSEWHERE[camelKey(String(at[0]), PROFILE_FIELDS) ?? ''] : undefined
  if (elsewhere !== undefined && camelKey(key, elsewhere.fields) !== undefined) {
    return invalid(`${where(path, lines, [...at, key])}: unknown ${what} "${key}" in ${tableName(at)}: ${elsewhere.hint}`)
  }
  const known = Object.keys(fields).map(kebabCase)
  const near = known.filter((k) => editDistance(k, key) <= Math.max(2, Math.floor(key.length / 4)))
  const hint = near.length > 0 ? `did you mean "${near[0]}"?` : `known ${what}s: ${known.join(', ')}`
  return invalid(`${where(path, lines, [...at, key])}: unknown ${what} "${key}"${at.length > 0 ? ` in ${tableName(at)}` : ''}: ${hint}`)
}

function wrongType(path: string, lines: TomlKeyLines, at: TomlPath, message: string, cause?: unknown): RusticError {
  return invalid(`${where(path, lines, at)}: invalid value of "${dotted(at)}": ${message}`, cause)
}

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)

/** Checks one value against its field; returns the value with camelCase keys in its tables. */
function checkField(value: unknown, field: ProfileField, at: TomlPath, path: string, lines: TomlKeyLines): unknown {
  if (field instanceof z.ZodType) {
    const r = field.safeParse(value)
    if (!r.success) {
      const issue = r.error.issues[0]!
      const inner = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
      throw wrongType(path, lines, [...at, ...inner], issue.message.replace(/^Invalid input: /, ''), r.error)
    }
    return value
  }
  switch (field.kind) {
    case 'table':
      if (!isTable(value)) throw wrongType(path, lines, at, 'expected a table')
      return checkTable(value, field.fields, at, path, lines)
    case 'tables':
      if (!Array.isArray(value) || !value.every(isTable)) throw wrongType(path, lines, at, `expected tables ([[${dotted(at)}]])`)
      return value.map((t, i) => {
        const entry = checkTable(t, field.fields, [...at, i], path, lines)
        const need = field.requireOneOf
        if (need !== undefined && !need.some((k) => k in entry)) {
          throw invalid(`${where(path, lines, [...at, i])}: ${tableName([...at, i])} needs ${need.map((k) => `"${kebabCase(k)}"`).join(' or ')}`)
        }
        return entry
      })
    case 'map':
      if (!isTable(value)) throw wrongType(path, lines, at, 'expected a table')
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw wrongType(path, lines, [...at, k], `expected a string (write ${k} = "${String(v)}")`)
      }
      return { ...value }
    case 'namesOrTables':
      if (!Array.isArray(value)) throw wrongType(path, lines, at, 'expected an array of profile names or of tables')
      return value.map((t: unknown, i) => {
        if (typeof t === 'string') return t
        if (!isTable(t)) throw wrongType(path, lines, [...at, i], 'expected a profile name or a table')
        return checkTable(t, field.fields, [...at, i], path, lines)
      })
  }
}

function checkTable(value: Record<string, unknown>, fields: ProfileFields, at: TomlPath, path: string, lines: TomlKeyLines): ProfileSettings {
  const out: ProfileSettings = {}
  for (const [key, v] of Object.entries(value)) {
    const camel = camelKey(key, fields)
    if (camel === undefined) throw unknownKey(path, lines, at, key, fields)
    out[camel] = checkField(v, fields[camel]!, [...at, key], path, lines)
  }
  return out
}

/** Levenshtein distance, for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = cur
  }
  return prev[b.length]!
}
