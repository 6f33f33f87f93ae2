import type { Id } from '../id/Id.js'
import type { Node } from './Node.js'
import { isNodeType } from './NodeType.js'
import { BACKSLASH, COLON, COMMA, LBRACE, LBRACKET, LOWER_HEX, Q, RBRACE, RBRACKET } from './jsonBytes.js'
import { parseTree } from './Tree.js'

/** What a walk over trees needs of a node (`check`): its name, type, content and subtree. */
export type NodeLinks = Pick<Node, 'name' | 'type' | 'content' | 'subtree'>

/**
 * The nodes of a tree blob with only their names, types, contents and subtrees: what {@link parseTree}
 * gives for them, and it throws what {@link parseTree} throws. A tree in restic's compact form (plain
 * ASCII, members restic writes, values in the form restic writes them) is read by a scan of its bytes that
 * checks every member as {@link parseTree} does but makes no node objects, times or strings beyond names
 * and ids; anything else (whitespace, escapes, non-ASCII bytes, upper-case ids, members restic 0.14 does
 * not write, malformed input) goes to {@link parseTree}, which decides.
 */
export function parseTreeLinks(json: Uint8Array, what: string): NodeLinks[] {
  return scanCompactTree(json) ?? parseTree(json, what)
}

/** `{"nodes":` */
const PREFIX = [0x7b, 0x22, 0x6e, 0x6f, 0x64, 0x65, 0x73, 0x22, 0x3a]

/** Bytes a node name may hold for its text to be its name as it is (no Go quoting, no JSON escapes; `Tree`'s `PLAIN`). */
const PLAIN_NAME = new Uint8Array(128)
for (let c = 0x20; c <= 0x7e; c++) PLAIN_NAME[c] = c === 0x22 || c === 0x26 || c === 0x3c || c === 0x3e || c === 0x5c ? 0 : 1

/** Member kinds by name (every member restic 0.14 writes); a member not here sends the tree to `parseTree`. */
const Kind = { Name: 0, Type: 1, Uint32: 2, Time: 3, Text: 4, Uint64: 5, Content: 6, Subtree: 7 } as const
type Kind = (typeof Kind)[keyof typeof Kind]
const KINDS = new Map<string, Kind>([
  ['name', Kind.Name],
  ['type', Kind.Type],
  ['mode', Kind.Uint32],
  ['uid', Kind.Uint32],
  ['gid', Kind.Uint32],
  ['mtime', Kind.Time],
  ['atime', Kind.Time],
  ['ctime', Kind.Time],
  ['user', Kind.Text],
  ['group', Kind.Text],
  ['linktarget', Kind.Text],
  ['error', Kind.Text],
  ['inode', Kind.Uint64],
  ['device_id', Kind.Uint64],
  ['device', Kind.Uint64],
  ['size', Kind.Uint64],
  ['links', Kind.Uint64],
  ['content', Kind.Content],
  ['subtree', Kind.Subtree],
])
/** {@link KINDS} by `length * 128 + first byte` (unique among them), so a member name needs no string. */
const KIND_BY_SHAPE = new Map<number, { name: Uint8Array; kind: Kind }>()
for (const [name, kind] of KINDS) KIND_BY_SHAPE.set(name.length * 128 + name.charCodeAt(0), { name: Buffer.from(name, 'latin1'), kind })

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Why the scan gives up (caught in {@link scanCompactTree}: the tree goes to `parseTree`). */
class NotCompact extends Error {}
const NOT_COMPACT = new NotCompact('not in compact form')

/**
 * The nodes of a tree in restic's compact form, each member checked as `parseTree` checks it (only forms
 * `parseTree` accepts with these very values are taken); `undefined` for anything else.
 */
function scanCompactTree(b: Uint8Array): NodeLinks[] | undefined {
  try {
    return new CompactTreeScan(b).tree()
  } catch (e) {
    if (e instanceof NotCompact) return undefined
    throw e
  }
}

/** One scan of a tree's bytes; every method throws {@link NOT_COMPACT} at the first byte it does not take. */
class CompactTreeScan {
  private p = 0
  private readonly text: Buffer
  /** The bytes of the last time found valid ([start, end)), so an equal time is not checked again. */
  private lastTimeStart = -1
  private lastTimeEnd = -1

  constructor(private readonly b: Uint8Array) {
    this.text = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  }

  tree(): NodeLinks[] {
    const b = this.b
    if (b.length < PREFIX.length) throw NOT_COMPACT
    for (let i = 0; i < PREFIX.length; i++) if (b[i] !== PREFIX[i]) throw NOT_COMPACT
    this.p = PREFIX.length
    const nodes: NodeLinks[] = []
    if (this.null()) {
      // `"nodes":null`: no nodes
    } else {
      this.byte(LBRACKET)
      if (b[this.p] === RBRACKET) this.p++
      else {
        for (;;) {
          nodes.push(this.node())
          if (b[this.p] === COMMA) this.p++
          else break
        }
        this.byte(RBRACKET)
      }
    }
    this.byte(RBRACE)
    if (this.p < b.length && b[this.p] === 0x0a) this.p++
    if (this.p !== b.length) throw NOT_COMPACT
    return nodes
  }

  private byte(c: number): void {
    if (this.b[this.p] !== c) throw NOT_COMPACT
    this.p++
  }

  /** Takes `null` if it comes next (followed by the end of a member). */
  private null(): boolean {
    const b = this.b
    const p = this.p
    if (b[p] !== 0x6e || b[p + 1] !== 0x75 || b[p + 2] !== 0x6c || b[p + 3] !== 0x6c) return false
    this.p = p + 4
    return true
  }

  private node(): NodeLinks {
    const b = this.b
    this.byte(LBRACE)
    let name = ''
    let type: string | undefined
    let content: Id[] | null | undefined
    let hasContent = false
    let subtree: Id | undefined
    for (;;) {
      const kind = this.memberKind()
      if (this.null()) {
        // (as parseTree: a known member that is null is left out; a null content is kept as null)
        if (kind === Kind.Content) {
          content = null
          hasContent = true
        }
      } else {
        switch (kind) {
          case Kind.Name:
            name = this.plainName()
            break
          case Kind.Type:
            type = this.string()
            break
          case Kind.Uint32:
            if (this.uint() > 0xffffffff) throw NOT_COMPACT
            break
          case Kind.Uint64:
            this.uint()
            break
          case Kind.Time:
            this.time()
            break
          case Kind.Text:
            this.skipString()
            break
          case Kind.Content:
            content = this.ids()
            hasContent = true
            break
          case Kind.Subtree:
            subtree = this.id()
            break
        }
      }
      const c = b[this.p]
      if (c !== COMMA && c !== RBRACE) throw NOT_COMPACT
      this.p++
      if (c === RBRACE) break
    }
    if (type === undefined || !isNodeType(type)) throw NOT_COMPACT
    const node: NodeLinks = { name, type }
    if (hasContent) node.content = content
    if (subtree !== undefined) node.subtree = subtree
    return node
  }

  /** A member name restic writes, unescaped, and its `:`. */
  private memberKind(): Kind {
    const b = this.b
    if (b[this.p] !== Q) throw NOT_COMPACT
    const start = this.p + 1
    let p = start
    let c = b[p]
    while (c !== undefined && ((c >= 0x61 && c <= 0x7a) || c === 0x5f)) c = b[++p] // a-z, _
    if (c !== Q || b[p + 1] !== COLON) throw NOT_COMPACT
    const known = KIND_BY_SHAPE.get((p - start) * 128 + b[start]!)
    if (known === undefined || known.name.length !== p - start) throw NOT_COMPACT
    for (let i = 1; i < known.name.length; i++) if (b[start + i] !== known.name[i]) throw NOT_COMPACT
    this.p = p + 2
    return known.kind
  }

  /** The bytes of a string literal without escapes, all of them printable ASCII; [start, end) of its value. */
  private stringRange(): number {
    const b = this.b
    if (b[this.p] !== Q) throw NOT_COMPACT
    let p = this.p + 1
    for (;;) {
      const c = b[p]
      if (c === Q) break
      // (no escapes, controls, non-ASCII bytes or end of input)
      if (c === undefined || c < 0x20 || c > 0x7f || c === BACKSLASH) throw NOT_COMPACT
      p++
    }
    const start = this.p + 1
    this.p = p + 1
    return start
  }

  private skipString(): void {
    this.stringRange()
  }

  private string(): string {
    const start = this.stringRange()
    return this.text.toString('latin1', start, this.p - 1)
  }

  /** A name whose literal is its name (no Go quoting or escapes needed). */
  private plainName(): string {
    const start = this.stringRange()
    const end = this.p - 1
    const b = this.b
    for (let i = start; i < end; i++) if (PLAIN_NAME[b[i]!] === 0) throw NOT_COMPACT
    return this.text.toString('latin1', start, end)
  }

  /** An unsigned integer of 1 to 15 digits without a leading zero, as `JsonCursor.uint` takes it. */
  private uint(): number {
    const b = this.b
    const start = this.p
    let p = start
    let n = 0
    let c = b[p]
    while (c !== undefined && c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30)
      c = b[++p]
    }
    const len = p - start
    if (len === 0 || len > 15 || (len > 1 && b[start] === 0x30)) throw NOT_COMPACT
    this.p = p
    return n
  }

  /** A time in the form `YYYY-MM-DDTHH:MM:SS[.f…](Z|±hh:mm)` that `isGoTime` takes without its regex. */
  private time(): void {
    const start = this.stringRange()
    const end = this.p - 1
    const b = this.b
    const n = end - start
    if (n === this.lastTimeEnd - this.lastTimeStart) {
      let same = true
      for (let i = 0; i < n && same; i++) same = b[start + i] === b[this.lastTimeStart + i]
      if (same) return
    }
    if (!quickGoTime(b, start, end)) throw NOT_COMPACT
    this.lastTimeStart = start
    this.lastTimeEnd = end
  }

  /** An id as restic writes it: 64 lower-case hex digits. */
  private id(): Id {
    const b = this.b
    const start = this.p + 1
    const end = start + 64
    if (b[this.p] !== Q || b[end] !== Q) throw NOT_COMPACT
    let ok = 1
    for (let i = start; i < end; i++) ok &= LOWER_HEX[b[i]!]!
    if (ok === 0) throw NOT_COMPACT
    this.p = end + 1
    return this.text.toString('latin1', start, end) as Id
  }

  private ids(): Id[] {
    const b = this.b
    this.byte(LBRACKET)
    const out: Id[] = []
    if (b[this.p] === RBRACKET) {
      this.p++
      return out
    }
    for (;;) {
      out.push(this.id())
      if (b[this.p] === COMMA) this.p++
      else break
    }
    this.byte(RBRACKET)
    // (as grown by push, with room to spare: a walk drops its nodes once it has checked them)
    return out
  }
}

/** The value of the two ASCII digits at `b[i]`, `b[i + 1]`, or -1. */
function twoDigits(b: Uint8Array, i: number): number {
  const x = b[i]! - 48
  const y = b[i + 1]! - 48
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

/**
 * True for the bytes [start, end) of a time `isGoTime` finds valid by its quick check (the usual
 * `YYYY-MM-DDTHH:MM:SS[.f…](Z|±hh:mm)`); false for anything else, valid or not (then `parseTree` decides).
 */
function quickGoTime(b: Uint8Array, start: number, end: number): boolean {
  const n = end - start
  if (n < 20 || b[start + 4] !== 45 || b[start + 7] !== 45 || b[start + 10] !== 84 || b[start + 13] !== 58 || b[start + 16] !== 58) return false
  const y1 = twoDigits(b, start)
  const y2 = twoDigits(b, start + 2)
  const month = twoDigits(b, start + 5)
  const day = twoDigits(b, start + 8)
  const hour = twoDigits(b, start + 11)
  const min = twoDigits(b, start + 14)
  const sec = twoDigits(b, start + 17)
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59) return false
  if (day > 28 && day > (month === 2 && isLeap(y1 * 100 + y2) ? 29 : MONTH_DAYS[month - 1]!)) return false
  let p = start + 19
  let c = b[p]
  if (c === 46 || c === 44) {
    p++
    const digits = p
    while (p < end && (c = b[p]!) >= 48 && c <= 57) p++
    if (p === digits) return false
    c = b[p]
  }
  if (c === 90) return p === end - 1
  return (c === 43 || c === 45) && p === end - 6 && b[p + 3] === 58 && twoDigits(b, p + 1) >= 0 && twoDigits(b, p + 4) >= 0
}
