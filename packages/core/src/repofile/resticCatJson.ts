import type { ConfigFile } from './ConfigFile.js'
import { goJson } from './goJson.js'
import { GO_ZERO_TIME, goTimeShortest } from './goTime.js'
import type { KeyFile } from './KeyFile.js'
import type { SnapshotFile } from './SnapshotFile.js'

/**
 * Go's `json.Indent` with no prefix and two spaces (what `json.MarshalIndent(v, "", "  ")` makes of
 * compact JSON): one member or element a line, `": "` after names, `[]` and `{}` kept empty.
 */
export function goJsonIndent(compact: string): string {
  let out = ''
  let depth = 0
  const newline = (): string => '\n' + '  '.repeat(depth)
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i]!
    if (c === '"') {
      let j = i + 1
      while (j < compact.length && compact[j] !== '"') j += compact[j] === '\\' ? 2 : 1
      out += compact.slice(i, j + 1)
      i = j
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']'
      if (compact[i + 1] === close) {
        out += c + close
        i++
      } else {
        depth++
        out += c + newline()
      }
    } else if (c === '}' || c === ']') {
      depth--
      out += newline() + c
    } else if (c === ',') out += ',' + newline()
    else if (c === ':') out += ': '
    else out += c
  }
  return out
}

/** Standard base64 of the decoded bytes (Go re-encodes `[]byte` fields). */
function reencodeBase64(b64: string): string {
  return Buffer.from(b64, 'base64').toString('base64')
}

/**
 * A key file as `restic cat key` prints it (restic 0.14 decodes it into its `Key` struct and prints that
 * indented): restic's fields only, in restic's order; a missing `created` (rustic's key files) as Go's zero
 * time, times in Go's shortest form.
 */
export function resticCatKeyJson(k: KeyFile): string {
  return goJsonIndent(
    goJson({
      created: goTimeShortest(k.created ?? GO_ZERO_TIME),
      username: k.username,
      hostname: k.hostname,
      kdf: k.kdf,
      N: k.N,
      r: k.r,
      p: k.p,
      salt: reencodeBase64(k.salt),
      data: reencodeBase64(k.data),
    }),
  )
}

/**
 * A snapshot as `restic cat snapshot` prints it (restic 0.14's `Snapshot` struct, indented): its fields
 * only (rustic's `label`, `summary`, ... left out), empty ones omitted as Go does, the time in Go's
 * shortest form.
 */
export function resticCatSnapshotJson(s: SnapshotFile): string {
  return goJsonIndent(
    goJson({
      time: goTimeShortest(s.time),
      parent: s.parent,
      tree: s.tree,
      paths: s.paths,
      hostname: s.hostname || undefined,
      username: s.username || undefined,
      uid: s.uid || undefined,
      gid: s.gid || undefined,
      excludes: s.excludes.length > 0 ? s.excludes : undefined,
      tags: s.tags.length > 0 ? s.tags : undefined,
      original: s.original,
    }),
  )
}

/** The config as `restic cat config` prints it: version, id and chunker polynomial, indented. */
export function resticCatConfigJson(c: ConfigFile): string {
  return goJsonIndent(goJson({ version: c.version, id: c.id, chunker_polynomial: c.chunkerPolynomial.toString(16) }))
}
