/**
 * A small pull tokenizer over JSON text, for files whose integers may exceed 2^53 (restic's uint64
 * fields) and whose unknown members must be kept verbatim. The caller walks the structure it
 * expects; numbers come back as their literal text.
 */

/** Thrown by {@link JsonCursor} on malformed JSON; `pos` is the character offset. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    /** Character offset in the text. */
    readonly pos: number,
  ) {
    super(message)
    this.name = 'JsonSyntaxError'
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/** 1 for the code units of `0-9a-f`, else 0. */
const LOWER_HEX = new Uint8Array(0x10000)
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1

/**
 * `text.slice(start, end)` as a string of its own. V8 makes a slice of 13 characters or more a view into
 * `text`, which keeps all of `text` alive as long as the slice is: a tree's whole JSON for one kept name,
 * time or id. Concatenating first makes it copy the characters (the result views only that copy).
 */
export function sliceOwn(text: string, start: number, end: number): string {
  return end - start < 13 ? text.slice(start, end) : (' ' + text.slice(start, end)).slice(1)
}

/** A JSON string read by {@link JsonCursor.string}: its value and whether its literal held escapes. */
export interface JsonStringToken {
  /** The decoded string. */
  value: string
  /** Offset of the opening quote. */
  start: number
  /** Offset just past the closing quote. */
  end: number
  /** True if the literal contains backslash escapes (so its text may differ from a re-encoding). */
  escaped: boolean
}

/** Pull tokenizer over a JSON text (see the module comment). */
export class JsonCursor {
  /** Current character offset. */
  pos = 0

  constructor(
    /** The JSON text. */
    readonly text: string,
  ) {}

  /** A syntax error at the current position. */
  error(message: string, pos = this.pos): JsonSyntaxError {
    return new JsonSyntaxError(message, pos)
  }

  /** Skips whitespace and returns the next character code (NaN at the end). */
  peek(): number {
    const t = this.text
    let p = this.pos
    let c = t.charCodeAt(p)
    if (c > 0x20) return c // no whitespace (compact JSON, as restic writes it)
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = t.charCodeAt(++p)
    this.pos = p
    return c
  }

  /** Consumes the character `ch` (after whitespace) or throws. */
  expect(ch: string): void {
    if (this.peek() !== ch.charCodeAt(0)) throw this.error(`expected '${ch}'`)
    this.pos++
  }

  /** Consumes `ch` if it comes next (after whitespace). */
  eat(ch: string): boolean {
    if (this.peek() !== ch.charCodeAt(0)) return false
    this.pos++
    return true
  }

  /** Consumes `null` if it comes next. */
  eatNull(): boolean {
    if (this.peek() === 0x6e && this.text.startsWith('null', this.pos)) {
      this.pos += 4
      return true
    }
    return false
  }

  /** Offset of the opening quote of the last string read by {@link JsonCursor.string}. */
  strStart = 0
  /** Offset just past the closing quote of the last string read. */
  strEnd = 0
  /** True if the last string read had backslash escapes (so its text may differ from a re-encoding). */
  strEscaped = false

  /** Reads a string literal and returns its value (see {@link JsonCursor.strStart} for its place). */
  string(): string {
    if (this.peek() !== 0x22) throw this.error('expected a string')
    const t = this.text
    const start = this.pos
    let p = start + 1
    let escaped = false
    for (;;) {
      const c = t.charCodeAt(p)
      if (c === 0x22) break
      if (c === 0x5c) {
        escaped = true
        p += 2
        continue
      }
      if (!(c >= 0x20)) throw this.error(Number.isNaN(c) ? 'unterminated string' : 'control character in string', p)
      p++
    }
    const end = p + 1
    this.pos = end
    this.strStart = start
    this.strEnd = end
    this.strEscaped = escaped
    if (!escaped) return sliceOwn(t, start + 1, p)
    try {
      return JSON.parse(t.slice(start, end)) as string
    } catch {
      throw this.error('invalid escape in string', start)
    }
  }

  /** The last string read, as a token. */
  lastString(value: string): JsonStringToken {
    return { value, start: this.strStart, end: this.strEnd, escaped: this.strEscaped }
  }

  /**
   * Reads a string literal of exactly 64 lower-case hex digits (an id as restic writes it) and returns
   * it; `undefined`, reading nothing, if the next value is anything else.
   */
  hex64(): string | undefined {
    if (this.peek() !== 0x22) return undefined
    const t = this.text
    const start = this.pos + 1
    const end = start + 64
    if (t.charCodeAt(end) !== 0x22) return undefined
    // a table instead of comparisons: random hex digits make the branches unpredictable
    let ok = 1
    for (let p = start; p < end; p++) ok &= LOWER_HEX[t.charCodeAt(p)]!
    if (ok === 0) return undefined
    this.pos = end + 1
    return sliceOwn(t, start, end)
  }

  /**
   * Reads a number literal that is a plain unsigned integer of at most 15 digits and returns its
   * value; -1, reading nothing, if the next value is anything else (then see {@link JsonCursor.number}).
   */
  uint(): number {
    let c = this.peek()
    const t = this.text
    const start = this.pos
    let p = start
    let n = 0
    while (c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30)
      c = t.charCodeAt(++p)
    }
    const len = p - start
    // not: no digits, more than 15, a leading zero, or a fraction or exponent following
    if (len === 0 || len > 15 || (len > 1 && t.charCodeAt(start) === 0x30) || c === 0x2e || c === 0x65 || c === 0x45) return -1
    this.pos = p
    return n
  }

  /** Reads a number literal and returns its text. */
  number(): string {
    this.peek()
    NUMBER.lastIndex = this.pos
    const m = NUMBER.exec(this.text)
    if (!m) throw this.error('expected a number')
    this.pos += m[0].length
    return m[0]
  }

  /** Skips one value of any kind and returns its [start, end) offsets. */
  skipValue(depth = 0): [number, number] {
    if (depth > 1000) throw this.error('nesting too deep')
    const c = this.peek()
    const start = this.pos
    if (c === 0x22) this.string()
    else if (c === 0x7b) {
      this.pos++
      if (!this.eat('}')) {
        do {
          this.string()
          this.expect(':')
          this.skipValue(depth + 1)
        } while (this.eat(','))
        this.expect('}')
      }
    } else if (c === 0x5b) {
      this.pos++
      if (!this.eat(']')) {
        do this.skipValue(depth + 1)
        while (this.eat(','))
        this.expect(']')
      }
    } else if (c === 0x74 && this.text.startsWith('true', start)) this.pos += 4
    else if (c === 0x66 && this.text.startsWith('false', start)) this.pos += 5
    else if (c === 0x6e && this.text.startsWith('null', start)) this.pos += 4
    else this.number()
    return [start, this.pos]
  }

  /** Throws unless only whitespace is left. */
  end(): void {
    if (!Number.isNaN(this.peek())) throw this.error('unexpected data after the JSON value')
  }
}
