import { z } from 'zod'
import { decodeError } from './decodeError.js'
import type { Id } from '../id/Id.js'
import { RawJson } from './goJson.js'

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true })

/** zod schema of an id in JSON: 64 hex characters (upper case accepted, as Go's hex decoder does), lower-cased. */
export const IdSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'expected a 64-character hex id')
  .transform((s) => s.toLowerCase() as Id)

/** zod schema of a JSON number that is a non-negative safe integer (Go's unsigned fields). */
export const UintSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

// (in a file of its own: code without zod, such as the worker programs, uses it)
export { decodeError }

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ')
}

/** Parses JSON text (or UTF-8 bytes), throwing `DecodeError` naming `what` on a syntax error. */
export function parseJsonText(json: Uint8Array | string, what: string): { text: string; value: unknown } {
  const text = typeof json === 'string' ? json : utf8.decode(json)
  try {
    return { text, value: JSON.parse(text) as unknown }
  } catch (cause) {
    throw decodeError(what, `invalid JSON (${(cause as Error).message})`, cause)
  }
}

/** Validates `value` with `schema`, throwing `DecodeError` naming `what` (and the first issues) on failure. */
export function validateJson<T extends z.ZodType>(value: unknown, schema: T, what: string): z.output<T> {
  const res = schema.safeParse(value)
  if (!res.success) throw decodeError(what, describeIssues(res.error), res.error)
  return res.data
}

/** Parses JSON and validates it with a zod schema; errors are `DecodeError`s naming `what`. */
export function decodeJson<T extends z.ZodType>(json: Uint8Array | string, schema: T, what: string): z.output<T> {
  return validateJson(parseJsonText(json, what).value, schema, what)
}

function skipWs(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i)
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
    else return i
  }
}

function skipString(text: string, i: number): number {
  // text[i] is the opening quote
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x22) return i + 1
  }
  return i
}

/** End index (exclusive) of the JSON value starting at `i` (text already known to be valid JSON). */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i)
  if (c === 0x22) return skipString(text, i)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (; i < text.length; i++) {
      const d = text.charCodeAt(i)
      if (d === 0x22) i = skipString(text, i) - 1
      else if (d === 0x7b || d === 0x5b) depth++
      else if (d === 0x7d || d === 0x5d) {
        depth--
        if (depth === 0) return i + 1
      }
    }
    return i
  }
  while (i < text.length) {
    const d = text.charCodeAt(i)
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break
    i++
  }
  return i
}

/** JSON text without insignificant whitespace (as Go's `json.Compact`, which `json.RawMessage` gets on output). */
function compactJson(raw: string): string {
  if (!/[ \n\r\t]/.test(raw)) return raw
  let out = ''
  for (let i = 0; i < raw.length; ) {
    const c = raw.charCodeAt(i)
    if (c === 0x22) {
      const end = skipString(raw, i)
      out += raw.slice(i, end)
      i = end
    } else {
      if (!(c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) out += raw[i]
      i++
    }
  }
  return out
}

/**
 * The members of the JSON object in `text` (valid JSON), each with its value as raw JSON text, in
 * file order. Used to keep unknown fields verbatim (numbers beyond 2^53, key order, escapes).
 */
export function rawJsonMembers(text: string): Array<[string, RawJson]> {
  const out: Array<[string, RawJson]> = []
  let i = skipWs(text, 0)
  if (text.charCodeAt(i) !== 0x7b) return out
  i = skipWs(text, i + 1)
  while (i < text.length && text.charCodeAt(i) !== 0x7d) {
    const keyEnd = skipString(text, i)
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = skipWs(text, keyEnd)
    i = skipWs(text, i + 1) // ':'
    const end = skipValue(text, i)
    out.push([key, new RawJson(compactJson(text.slice(i, end)))])
    i = skipWs(text, end)
    if (text.charCodeAt(i) === 0x2c) i = skipWs(text, i + 1)
  }
  return out
}

/**
 * The members of a parsed JSON object that are not in `known`, as {@link RawJson} values taken from
 * `text` (the object's own JSON text), or `undefined` if there are none.
 */
export function unknownMembers(
  text: string,
  parsed: Record<string, unknown>,
  known: ReadonlySet<string>,
): Record<string, unknown> | undefined {
  let any = false
  for (const k of Object.keys(parsed)) {
    if (!known.has(k)) {
      any = true
      break
    }
  }
  if (!any) return undefined
  const extra: Record<string, unknown> = {}
  for (const [k, v] of rawJsonMembers(text)) if (!known.has(k)) setOwn(extra, k, v)
  return extra
}

/** Builds the JSON object to serialise: `fields` in order, then the `extra` members not already present. */
export function withExtra(fields: Record<string, unknown>, extra?: Record<string, unknown>): Record<string, unknown> {
  if (extra === undefined) return fields
  for (const [k, v] of Object.entries(extra)) if (!Object.hasOwn(fields, k) || fields[k] === undefined) setOwn(fields, k, v)
  return fields
}

/** Sets an own, enumerable property (safe for keys like `__proto__`). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}
