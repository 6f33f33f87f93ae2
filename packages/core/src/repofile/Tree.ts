/**
 * restic tree blobs: `{"nodes":[…]}\n`, byte-exact as restic 0.14 writes them (the tree id is the
 * SHA-256 of these bytes), and a lossless reader for trees written by restic 0.14–0.17 and rustic.
 */
import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import { goJsonString, RawJson } from './goJson.js'
import { goQuote, goQuoteString, goUnquote } from './goQuote.js'
import { isGoTime } from './goTime.js'
import { goJsonStringFromBytes, isValidUtf8, utf8Lossy } from './goUtf8.js'
import { JsonCursor, JsonSyntaxError, sliceOwn, type JsonStringToken } from './JsonCursor.js'
import { compareNames, nodeNameBytes, ZERO_GO_TIME, type ExtendedAttribute, type Node } from './Node.js'
import { isNodeType } from './NodeType.js'
import { keepVerbatim, verbatimJson, verbatimMembers, type VerbatimMembers } from './nodeVerbatim.js'

// ---------------------------------------------------------------------------------------------
// Writing

const base64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')

/** Members written at fixed places; an `extra` member with one of these names is ignored. */
const KNOWN = new Set([
  'name',
  'type',
  'mode',
  'mtime',
  'atime',
  'ctime',
  'uid',
  'gid',
  'user',
  'group',
  'inode',
  'device_id',
  'size',
  'links',
  'linktarget',
  'linktarget_raw',
  'extended_attributes',
  'generic_attributes',
  'device',
  'content',
  'subtree',
  'error',
])

/** A number as Go writes a uint64 (digits, never an exponent). */
function intText(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString()
}

/** Go's JSON string literal of `s`, without work for plain printable ASCII. */
function jsonStr(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : goJsonString(s)
}

function canonicalNameJson(node: Node): string {
  if (node.nameRaw) return goJsonString(goQuote(node.nameRaw))
  return PLAIN.test(node.name) ? `"${node.name}"` : goJsonString(goQuoteString(node.name))
}

/** The JSON string (with quotes) restic writes as a node's name: Go-quoted, then JSON-escaped. */
export function nodeNameJson(node: Node): string {
  return verbatimJson(verbatimMembers(node), 'name', node.name, node.nameRaw) ?? canonicalNameJson(node)
}

function canonicalLinktargetJson(node: Node): string {
  const raw = node.linktargetRaw
  return raw !== undefined ? goJsonStringFromBytes(raw) : jsonStr(node.linktarget ?? '')
}

function stringJson(vb: VerbatimMembers | undefined, key: string, value: string): string {
  return verbatimJson(vb, key, value, undefined) ?? jsonStr(value)
}

/**
 * One node as restic 0.14 writes it (Go `encoding/json` of restic's `Node`): members in restic's order,
 * zero values omitted where restic omits them. Two additions, both as restic 0.16+ writes them:
 * `linktarget_raw` when the symlink target is not valid UTF-8, and `generic_attributes` (and any other
 * unknown member, at the end) from {@link Node.extra}.
 */
export function serializeNode(node: Node): string {
  const vb = verbatimMembers(node)
  let s = `{"name":${verbatimJson(vb, 'name', node.name, node.nameRaw) ?? canonicalNameJson(node)},"type":"${node.type}"`
  if (node.mode) s += `,"mode":${node.mode}`
  s += `,"mtime":${jsonStr(node.mtime || ZERO_GO_TIME)},"atime":${jsonStr(node.atime || ZERO_GO_TIME)},"ctime":${jsonStr(node.ctime || ZERO_GO_TIME)}`
  s += `,"uid":${node.uid},"gid":${node.gid}`
  if (node.user) s += `,"user":${stringJson(vb, 'user', node.user)}`
  if (node.group) s += `,"group":${stringJson(vb, 'group', node.group)}`
  if (node.inode) s += `,"inode":${node.inode}`
  if (node.deviceId) s += `,"device_id":${node.deviceId}`
  if (node.size) s += `,"size":${verbatimJson(vb, 'size', node.size, undefined) ?? intText(node.size)}`
  if (node.links) s += `,"links":${verbatimJson(vb, 'links', node.links, undefined) ?? intText(node.links)}`
  const raw = node.linktargetRaw
  if (raw !== undefined ? raw.length > 0 : node.linktarget) {
    s += `,"linktarget":${verbatimJson(vb, 'linktarget', node.linktarget, raw) ?? canonicalLinktargetJson(node)}`
    if (raw !== undefined && !isValidUtf8(raw)) s += `,"linktarget_raw":"${base64(raw)}"`
  }
  const xattrs = node.extendedAttributes
  if (xattrs !== undefined && xattrs.length > 0) {
    s += `,"extended_attributes":[${xattrs.map((a) => `{"name":${stringJson(verbatimMembers(a), 'name', a.name)},"value":"${base64(a.value)}"}`).join(',')}]`
  }
  const extra = node.extra
  const generic = extra?.['generic_attributes']
  if (generic !== undefined) s += `,"generic_attributes":${generic.text}`
  if (node.device) s += `,"device":${node.device}`
  // ids are lower-case hex: written without escaping, with one join (no string per id)
  const content = node.content
  s += content == null ? ',"content":null' : content.length === 0 ? ',"content":[]' : `,"content":["${content.join('","')}"]`
  if (node.subtree) s += `,"subtree":"${node.subtree}"`
  if (node.error) s += `,"error":${stringJson(vb, 'error', node.error)}`
  if (extra !== undefined) {
    for (const [k, v] of Object.entries(extra)) if (!KNOWN.has(k)) s += `,${goJsonString(k)}:${v.text}`
  }
  return s + '}'
}

/** True for a node {@link sameSerializedNode} leaves to comparing texts. */
function notByMembers(n: Node): boolean {
  return verbatimMembers(n) !== undefined || n.extra !== undefined || n.nameRaw !== undefined || n.linktargetRaw !== undefined || (n.extendedAttributes?.length ?? 0) > 0
}

/**
 * Whether {@link serializeNode} gives `a` and `b` the same text, decided from their members without
 * writing either; undefined (compare the texts) when one has members kept verbatim or unknown, raw
 * bytes or extended attributes.
 */
export function sameSerializedNode(a: Node, b: Node): boolean | undefined {
  if (notByMembers(a) || notByMembers(b)) return undefined
  const sameIds = (x: Id[] | null | undefined, y: Id[] | null | undefined): boolean =>
    x == null || y == null ? (x == null) === (y == null) : x.length === y.length && x.every((id, i) => id === y[i])
  // as serializeNode writes them: falsy members are left out (times: Go's zero time); numbers and bigints
  // as decimals (`==` compares a bigint with a number by value)
  return (
    a.name === b.name &&
    a.type === b.type &&
    (a.mode || 0) === (b.mode || 0) &&
    (a.mtime || ZERO_GO_TIME) === (b.mtime || ZERO_GO_TIME) &&
    (a.atime || ZERO_GO_TIME) === (b.atime || ZERO_GO_TIME) &&
    (a.ctime || ZERO_GO_TIME) === (b.ctime || ZERO_GO_TIME) &&
    a.uid == b.uid &&
    a.gid == b.gid &&
    (a.user || '') === (b.user || '') &&
    (a.group || '') === (b.group || '') &&
    (a.inode || 0) == (b.inode || 0) &&
    (a.deviceId || 0) == (b.deviceId || 0) &&
    (a.size || 0) === (b.size || 0) &&
    (a.links || 0) === (b.links || 0) &&
    (a.linktarget || '') === (b.linktarget || '') &&
    (a.device || 0) == (b.device || 0) &&
    sameIds(a.content, b.content) &&
    (a.subtree || '') === (b.subtree || '') &&
    (a.error || '') === (b.error || '')
  )
}

const encoder = new TextEncoder()

/**
 * The exact bytes of a tree blob as restic 0.14 writes them: `{"nodes":[…]}\n`, nodes sorted by raw
 * name bytes, each as {@link serializeNode}. Throws `InvalidInput` (code `DuplicateName`) if two nodes
 * have the same name. `serialize` may return a node's {@link serializeNode} text computed before.
 */
export function serializeTree(nodes: readonly Node[], serialize: (node: Node) => string = serializeNode): Uint8Array {
  // Well-formed JS strings compare in UTF-8 byte order by code point; raw names need their bytes.
  const byBytes = nodes.some((n) => n.nameRaw !== undefined || LONE_SURROGATE.test(n.name))
  const ordered = byBytes ? sortedByBytes(nodes) : sortedByCodePoints(nodes)
  let s = '{"nodes":['
  for (let i = 0; i < ordered.length; i++) s += (i === 0 ? '' : ',') + serialize(ordered[i]!)
  return encoder.encode(s + ']}\n')
}

/** The nodes by name (code points): `nodes` itself when they come sorted, as they usually do (no copy, no keys). */
function sortedByCodePoints(nodes: readonly Node[]): readonly Node[] {
  let inOrder = true
  for (let i = 1; i < nodes.length && inOrder; i++) inOrder = compareCodePoints(nodes[i - 1]!.name, nodes[i]!.name) < 0
  return inOrder ? nodes : sortedUnique(nodes, (a, b) => compareCodePoints(a.name, b.name), (n) => n)
}

/** The nodes by raw name bytes (each node's bytes computed once). */
function sortedByBytes(nodes: readonly Node[]): readonly Node[] {
  const keyed = nodes.map((node) => ({ node, key: nodeNameBytes(node) }))
  let inOrder = true
  for (let i = 1; i < keyed.length && inOrder; i++) inOrder = compareNames(keyed[i - 1]!.key, keyed[i]!.key) < 0
  return inOrder ? nodes : sortedUnique(keyed, (a, b) => compareNames(a.key, b.key), (k) => k.node).map((k) => k.node)
}

/** A sorted copy of `items`; throws `InvalidInput` (code `DuplicateName`) if two compare equal. */
function sortedUnique<T>(items: readonly T[], cmp: (a: T, b: T) => number, nodeOf: (item: T) => Node): T[] {
  const out = [...items].sort(cmp)
  for (let i = 1; i < out.length; i++) {
    if (cmp(out[i - 1]!, out[i]!) === 0) {
      throw new RusticError('InvalidInput', `two nodes named ${nodeNameJson(nodeOf(out[i]!))} in one tree`, { code: 'DuplicateName' })
    }
  }
  return out
}

/** A lone surrogate (in `u` mode, paired surrogates are one code point). */
const LONE_SURROGATE = /\p{Cs}/u

/** Compares well-formed strings by code point (= UTF-8 byte order), unlike `<` (UTF-16 code units). */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i)
    let cb = b.charCodeAt(i)
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) {
        // surrogates (astral code points) sort after U+E000..U+FFFF
        ca = ca < 0xe000 ? ca + 0x2000 : ca
        cb = cb < 0xe000 ? cb + 0x2000 : cb
      }
      return ca - cb
    }
  }
  return a.length - b.length
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Printable ASCII that neither Go's quoting nor Go's JSON escapes. */
const PLAIN = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/
/** Characters that Go's JSON writes escaped although JSON allows them raw. */
const GO_ESCAPED = /[<>&\u2028\u2029]/
const ID = /^[0-9a-f]{64}$/
const ID_ANY_CASE = /^[0-9a-fA-F]{64}$/
const UINT = /^(?:0|[1-9]\d*)$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const MAX_U64 = 2n ** 64n - 1n
/** Keeps a leading U+FEFF: names may start with one, and Go's JSON rejects a BOM before a tree's `{`. */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** A field-level problem; turned into a `RusticError` naming the tree and node. */
class FieldError extends Error {}

function uint32(cur: JsonCursor): number {
  const fast = cur.uint()
  if (fast >= 0) {
    if (fast > 0xffffffff) throw new FieldError(`${fast} is out of range`)
    return fast
  }
  const t = cur.number()
  if (!UINT.test(t)) throw new FieldError(`${t} is not an unsigned integer`)
  const n = Number(t)
  if (n > 0xffffffff) throw new FieldError(`${t} is out of range`)
  return n
}

/** A uint64 member held as a number (`size`, `links`): above 2^53 its exact text is kept verbatim. */
function uint64Number(cur: JsonCursor, node: Node, key: string): number {
  const fast = cur.uint()
  if (fast >= 0) return fast
  const t = cur.number()
  if (!UINT.test(t)) throw new FieldError(`${t} is not an unsigned integer`)
  const n = Number(t)
  if (n > Number.MAX_SAFE_INTEGER) {
    if (BigInt(t) > MAX_U64) throw new FieldError(`${t} is out of range`)
    keepVerbatim(node, key, n, undefined, t)
  }
  return n
}

function uint64(cur: JsonCursor): bigint {
  const fast = cur.uint()
  if (fast >= 0) return BigInt(fast)
  const t = cur.number()
  if (!UINT.test(t)) throw new FieldError(`${t} is not an unsigned integer`)
  const n = BigInt(t)
  if (n > MAX_U64) throw new FieldError(`${t} is out of range`)
  return n
}

function id(cur: JsonCursor): Id {
  const fast = cur.hex64()
  if (fast !== undefined) return fast as Id
  const v = cur.string()
  if (ID.test(v)) return v as Id
  if (ID_ANY_CASE.test(v)) return v.toLowerCase() as Id
  throw new FieldError(`${JSON.stringify(v.slice(0, 80))} is not an id`)
}

function bytes64(cur: JsonCursor): Uint8Array {
  const v = cur.string()
  if (!BASE64.test(v)) throw new FieldError('invalid base64')
  return new Uint8Array(Buffer.from(v, 'base64'))
}

/** The last time {@link time} accepted in the tree being parsed (a node's times are often equal). */
let lastTime = ''

function time(cur: JsonCursor): string {
  if (cur.peek() === 0x22) {
    // the usual literal, without escapes (a valid time holds no backslash, quote or control character)
    const t = cur.text
    const start = cur.pos + 1
    const end = t.indexOf('"', start)
    if (end > 0) {
      // (the same string as the last time where equal, else a copy: see sliceOwn)
      if (end - start === lastTime.length && t.startsWith(lastTime, start)) {
        cur.pos = end + 1
        return lastTime
      }
      const v = sliceOwn(t, start, end)
      if (isGoTime(v)) {
        cur.pos = end + 1
        lastTime = v
        return v
      }
    }
  }
  const v = cur.string()
  if (v === lastTime) return lastTime
  if (!isGoTime(v)) throw new FieldError(`${JSON.stringify(v.slice(0, 60))} is not an RFC 3339 time`)
  lastTime = v
  return v
}

/** Known member names by `length * 128 + first character` (unique among them), for {@link memberKey}. */
const KEY_BY_SHAPE = new Array<string | undefined>(32 * 128).fill(undefined)
for (const k of KNOWN) KEY_BY_SHAPE[k.length * 128 + k.charCodeAt(0)] = k

/**
 * Reads a member name and its `:`. A known name comes back as the constant in {@link KNOWN}, without
 * making a string (and a `switch` compares constants by reference).
 */
function memberKey(cur: JsonCursor): string {
  if (cur.peek() === 0x22) {
    const t = cur.text
    const start = cur.pos + 1
    let p = start
    let c = t.charCodeAt(p)
    while ((c >= 0x61 && c <= 0x7a) || c === 0x5f) c = t.charCodeAt(++p) // a-z, _
    if (c === 0x22) {
      const k = KEY_BY_SHAPE[(p - start) * 128 + t.charCodeAt(start)]
      if (k !== undefined && t.startsWith(k, start)) {
        if (t.charCodeAt(p + 1) === 0x3a) cur.pos = p + 2
        else {
          cur.pos = p + 1
          cur.expect(':')
        }
        return k
      }
    }
  }
  const key = cur.string()
  cur.expect(':')
  return key
}

/** Keeps the string member just read verbatim if its literal is not what Go would write for `value`. */
function checkString(cur: JsonCursor, obj: object, key: string, value: string): void {
  if (!cur.strEscaped && !GO_ESCAPED.test(value)) return
  const json = cur.text.slice(cur.strStart, cur.strEnd)
  if (goJsonString(value) !== json) keepVerbatim(obj, key, value, undefined, json)
}

function parseXattrs(cur: JsonCursor): ExtendedAttribute[] {
  const out: ExtendedAttribute[] = []
  cur.expect('[')
  if (cur.eat(']')) return out
  do {
    const attr: ExtendedAttribute = { name: '', value: new Uint8Array(0) }
    cur.expect('{')
    if (!cur.eat('}')) {
      do {
        const key = cur.string()
        cur.expect(':')
        if (cur.eatNull()) continue
        if (key === 'name') {
          attr.name = cur.string()
          checkString(cur, attr, 'name', attr.name)
        } else if (key === 'value') attr.value = bytes64(cur)
        else cur.skipValue()
      } while (cur.eat(','))
      cur.expect('}')
    }
    out.push(attr)
  } while (cur.eat(','))
  cur.expect(']')
  return out
}

function parseNode(cur: JsonCursor): Node {
  const node = { name: '', mtime: ZERO_GO_TIME, atime: ZERO_GO_TIME, ctime: ZERO_GO_TIME, uid: 0, gid: 0 } as Node
  let type: string | undefined
  let nameTok: JsonStringToken | undefined
  let linkTok: JsonStringToken | undefined
  let linkRaw: Uint8Array | undefined
  cur.expect('{')
  if (!cur.eat('}')) {
    do {
      const key = memberKey(cur)
      if (cur.peek() === 0x6e && KNOWN.has(key) && cur.eatNull()) {
        if (key === 'content') node.content = null
        continue
      }
      switch (key) {
        case 'name':
          nameTok = cur.lastString(cur.string())
          break
        case 'type':
          type = cur.string()
          break
        case 'mode':
          node.mode = uint32(cur)
          break
        case 'mtime':
          node.mtime = time(cur)
          break
        case 'atime':
          node.atime = time(cur)
          break
        case 'ctime':
          node.ctime = time(cur)
          break
        case 'uid':
          node.uid = uint32(cur)
          break
        case 'gid':
          node.gid = uint32(cur)
          break
        case 'user':
          node.user = cur.string()
          checkString(cur, node, 'user', node.user)
          break
        case 'group':
          node.group = cur.string()
          checkString(cur, node, 'group', node.group)
          break
        case 'inode':
          node.inode = uint64(cur)
          break
        case 'device_id':
          node.deviceId = uint64(cur)
          break
        case 'size':
          node.size = uint64Number(cur, node, 'size')
          break
        case 'links':
          node.links = uint64Number(cur, node, 'links')
          break
        case 'linktarget':
          linkTok = cur.lastString(cur.string())
          break
        case 'linktarget_raw':
          linkRaw = bytes64(cur)
          break
        case 'extended_attributes':
          node.extendedAttributes = parseXattrs(cur)
          break
        case 'device':
          node.device = uint64(cur)
          break
        case 'content': {
          cur.expect('[')
          if (cur.eat(']')) {
            node.content = []
            break
          }
          const first = id(cur)
          if (!cur.eat(',')) {
            // one id (most files): an array of exactly one, made once
            cur.expect(']')
            node.content = [first]
            break
          }
          const content: Id[] = [first]
          do content.push(id(cur))
          while (cur.eat(','))
          cur.expect(']')
          // a copy holds exactly its ids (an array grown by push keeps room for 16 more: ~130 bytes per file kept)
          node.content = content.slice()
          break
        }
        case 'subtree':
          node.subtree = id(cur)
          break
        case 'error':
          node.error = cur.string()
          checkString(cur, node, 'error', node.error)
          break
        default: {
          const [a, b] = cur.skipValue()
          ;(node.extra ??= {})[key] = new RawJson(cur.text.slice(a, b))
        }
      }
    } while (cur.eat(','))
    cur.expect('}')
  }

  // name: Go-quoted text inside the JSON string
  if (nameTok !== undefined) {
    const q = nameTok.value
    const plain = PLAIN.test(q)
    if (plain) node.name = q
    else {
      const raw = goUnquote(q)
      if (isValidUtf8(raw)) node.name = decoder.decode(raw)
      else {
        node.name = utf8Lossy(raw)
        node.nameRaw = raw
      }
    }
    if (nameTok.escaped || !plain) {
      const json = cur.text.slice(nameTok.start, nameTok.end)
      if (canonicalNameJson(node) !== json) keepVerbatim(node, 'name', node.name, node.nameRaw, json)
    }
  }
  if (type === undefined) throw new FieldError('no type')
  if (!isNodeType(type)) throw new FieldError(`unknown type ${JSON.stringify(type.slice(0, 40))}`)
  node.type = type

  // linktarget: restic 0.16+ keeps non-UTF-8 targets in linktarget_raw, which wins
  if (linkRaw !== undefined && linkRaw.length > 0) {
    if (isValidUtf8(linkRaw)) node.linktarget = decoder.decode(linkRaw)
    else {
      node.linktarget = utf8Lossy(linkRaw)
      node.linktargetRaw = linkRaw
    }
  } else if (linkTok !== undefined && linkTok.value !== '') node.linktarget = linkTok.value
  if (linkTok !== undefined && (linkTok.escaped || GO_ESCAPED.test(linkTok.value)) && node.linktarget !== undefined) {
    const json = cur.text.slice(linkTok.start, linkTok.end)
    if (canonicalLinktargetJson(node) !== json) keepVerbatim(node, 'linktarget', node.linktarget, node.linktargetRaw, json)
  }
  return node
}

/**
 * Parses a tree blob (restic 0.14–0.17 or rustic), keeping uint64 fields exact (as bigint), times as
 * their original strings and unknown members verbatim in {@link Node.extra}; {@link serializeTree}
 * gives back the same bytes for any tree restic wrote. Throws a `RusticError` (kind `Repository`,
 * code `DecodeError`) naming `what` (e.g. `tree 1a2b3c4d`) on malformed input.
 */
export function parseTree(json: Uint8Array, what: string): Node[] {
  const cur = new JsonCursor(decoder.decode(json))
  const nodes: Node[] = []
  try {
    cur.expect('{')
    if (!cur.eat('}')) {
      do {
        const key = cur.string()
        cur.expect(':')
        if (key !== 'nodes') cur.skipValue()
        else if (!cur.eatNull()) {
          nodes.length = 0
          cur.expect('[')
          if (!cur.eat(']')) {
            do {
              const start = cur.pos
              try {
                nodes.push(parseNode(cur))
              } catch (err) {
                if (err instanceof JsonSyntaxError) throw err
                const msg = err instanceof Error ? err.message : String(err)
                throw new RusticError('Repository', `cannot decode ${what}: node ${nodes.length}${nodeLabel(cur, start)}: ${msg}`, {
                  code: 'DecodeError',
                  cause: err,
                })
              }
            } while (cur.eat(','))
            cur.expect(']')
          }
        }
      } while (cur.eat(','))
      cur.expect('}')
    }
    cur.end()
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      throw new RusticError('Repository', `cannot decode ${what}: invalid JSON at offset ${err.pos}: ${err.message}`, {
        code: 'DecodeError',
        cause: err,
      })
    }
    throw err
  } finally {
    lastTime = '' // do not keep the tree's text alive
  }
  return nodes
}

/** ` ("name")` of the node starting at `start`, best effort, for error messages. */
function nodeLabel(cur: JsonCursor, start: number): string {
  const m = /"name"\s*:\s*("(?:[^"\\]|\\.){0,200}")/.exec(cur.text.slice(start, start + 400))
  return m ? ` (${m[1]})` : ''
}
