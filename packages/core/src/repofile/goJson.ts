/**
 * JSON text exactly as Go's `encoding/json` (go1.19, which built restic 0.14) writes it.
 * Ids and file names depend on these bytes, so every file rustic-ts writes goes through here.
 */

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
}

/** A JSON string literal (with quotes) as Go writes it. Lone surrogates become the escape `\ufffd`, as Go writes invalid UTF-8. */
export function goJsonString(s: string): string {
  const json = JSON.stringify(s)
  // Fast path: nothing Go writes differently.
  if (!/[<>&\u2028\u2029]|\\[bf]|\\ud[89a-f]/i.test(json)) return json
  return json.replace(/[<>&\u2028\u2029]|\\\\|\\b|\\f|\\u(d[89a-f][0-9a-f]{2})/gi, (m, sur?: string) => {
    if (m === '\\\\') return m
    if (m === '\\b') return '\\u0008'
    if (m === '\\f') return '\\u000c'
    if (sur !== undefined) return '\\ufffd'
    return GO_ESCAPES[m] ?? m
  })
}

/** A JSON value that serialises as raw, already-encoded JSON text. */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * Go-style JSON for plain values: objects keep their key order, `undefined` members are left out,
 * strings are escaped as Go does, bigints are written as integers and {@link RawJson} verbatim.
 */
export function goJson(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string':
      return goJsonString(value)
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('cannot encode a non-finite number as JSON')
      return JSON.stringify(value)
    case 'bigint':
      return value.toString()
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object': {
      if (value instanceof RawJson) return value.text
      if (Array.isArray(value)) return `[${value.map((v) => goJson(v === undefined ? null : v)).join(',')}]`
      const parts: string[] = []
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue
        parts.push(`${goJsonString(k)}:${goJson(v)}`)
      }
      return `{${parts.join(',')}}`
    }
    default:
      throw new TypeError(`cannot encode ${typeof value} as JSON`)
  }
}

const encoder = new TextEncoder()

/** {@link goJson} as UTF-8 bytes. */
export function goJsonBytes(value: unknown, trailingNewline = false): Uint8Array {
  return encoder.encode(trailingNewline ? goJson(value) + '\n' : goJson(value))
}
