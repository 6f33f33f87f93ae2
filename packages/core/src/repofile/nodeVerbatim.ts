/**
 * Exact JSON texts of node members that the `Node` shape cannot hold exactly: a string whose stored
 * literal is not what Go would write for it (restic 0.14's `\ufffd` escapes for invalid UTF-8 in a
 * symlink target, Go >= 1.22's `\b`), or a `size`/`links` above 2^53. They are written back verbatim
 * while the member still holds the value (and raw bytes) they were recorded with, so a tree read and
 * written again keeps its bytes (and id). Internal to the tree (de)serialiser and `nodeFromStats`.
 */

/** Recorded members of one object: key -> the value it had, its raw bytes (names), and the JSON text. */
export type VerbatimMembers = Map<string, { value: unknown; raw: Uint8Array | undefined; json: string }>

const verbatim = new WeakMap<object, VerbatimMembers>()

/** Records that member `key` of `obj`, holding `value` (and raw bytes `raw`), is written as `json`. */
export function keepVerbatim(obj: object, key: string, value: unknown, raw: Uint8Array | undefined, json: string): void {
  let m = verbatim.get(obj)
  if (m === undefined) verbatim.set(obj, (m = new Map()))
  m.set(key, { value, raw, json })
}

/** The recorded members of `obj`, if any. */
export function verbatimMembers(obj: object): VerbatimMembers | undefined {
  return verbatim.get(obj)
}

/** The recorded JSON text of member `key`, if it still holds `value` and `raw`. */
export function verbatimJson(vb: VerbatimMembers | undefined, key: string, value: unknown, raw: Uint8Array | undefined): string | undefined {
  if (vb === undefined) return undefined
  const v = vb.get(key)
  return v !== undefined && v.value === value && v.raw === raw ? v.json : undefined
}
