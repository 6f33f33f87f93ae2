/**
 * Go's `strconv.Quote` / `strconv.Unquote` (go1.19, as in restic 0.14), without the outer quotes.
 * restic stores every node name in this form, so file names that are not valid UTF-8 survive JSON.
 */
import { RusticError } from '../error/RusticError.js'
import { isGoPrint } from './goPrintable.js'
import { decodeGoRune, runeLength, utf8Bytes } from './goUtf8.js'

const HEX = '0123456789abcdef'

/** Names made only of printable ASCII other than `"` and `\` quote to themselves. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

function hex2(b: number): string {
  return HEX[b >> 4]! + HEX[b & 15]!
}

/** The quoted form of one valid rune, as Go's `appendEscapedRune` writes it. */
function escapeRune(cp: number): string {
  if (cp === 0x22) return '\\"'
  if (cp === 0x5c) return '\\\\'
  if (isGoPrint(cp)) return String.fromCodePoint(cp)
  switch (cp) {
    case 0x07:
      return '\\a'
    case 0x08:
      return '\\b'
    case 0x0c:
      return '\\f'
    case 0x0a:
      return '\\n'
    case 0x0d:
      return '\\r'
    case 0x09:
      return '\\t'
    case 0x0b:
      return '\\v'
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hex2(cp)
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0')
  return '\\U' + cp.toString(16).padStart(8, '0')
}

/** Go's `strconv.Quote` of the byte string `raw`, without the outer quotes. Invalid UTF-8 bytes become `\xNN`. */
export function goQuote(raw: Uint8Array): string {
  let out = ''
  let i = 0
  while (i < raw.length) {
    const cp = decodeGoRune(raw, i)
    if (cp < 0) {
      out += '\\x' + hex2(raw[i]!)
      i++
    } else {
      out += cp < 0x80 && cp >= 0x20 && cp !== 0x22 && cp !== 0x5c && cp !== 0x7f ? String.fromCharCode(cp) : escapeRune(cp)
      i += runeLength(cp)
    }
  }
  return out
}

/** {@link goQuote} of the UTF-8 bytes of `s` (lone surrogates count as U+FFFD), with a fast path for plain ASCII. */
export function goQuoteString(s: string): string {
  if (PLAIN_ASCII.test(s)) return s
  let out = ''
  for (const ch of s) {
    let cp = ch.codePointAt(0)!
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd
    out += escapeRune(cp)
  }
  return out
}

function syntaxError(s: string, why: string): RusticError {
  const shown = s.length > 200 ? s.slice(0, 200) + '…' : s
  return new RusticError('InvalidInput', `invalid Go-quoted string ${JSON.stringify(shown)}: ${why}`, {
    code: 'DecodeError',
  })
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10
  return -1
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c, '"': 0x22 }

/**
 * The bytes of the Go string literal `"` + `s` + `"` (Go's `strconv.Unquote`), the inverse of {@link goQuote}.
 * Throws a `RusticError` with code `DecodeError` on a malformed escape, a raw `"` or a raw newline.
 */
export function goUnquote(s: string): Uint8Array {
  if (!s.includes('\\')) {
    if (s.includes('"')) throw syntaxError(s, 'unescaped "')
    if (s.includes('\n')) throw syntaxError(s, 'unescaped newline')
    return utf8Bytes(s)
  }
  const out: number[] = []
  let i = 0
  const n = s.length
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c !== 0x5c) {
      if (c === 0x22) throw syntaxError(s, 'unescaped "')
      if (c === 0x0a) throw syntaxError(s, 'unescaped newline')
      if (c < 0x80) {
        out.push(c)
        i++
      } else {
        const cp = s.codePointAt(i)!
        const len = cp > 0xffff ? 2 : 1
        for (const b of utf8Bytes(s.slice(i, i + len))) out.push(b)
        i += len
      }
      continue
    }
    if (i + 1 >= n) throw syntaxError(s, 'trailing backslash')
    const e = s[i + 1]!
    const simple = SIMPLE_ESCAPES[e]
    if (simple !== undefined) {
      out.push(simple)
      i += 2
      continue
    }
    if (e === 'x' || e === 'u' || e === 'U') {
      const digits = e === 'x' ? 2 : e === 'u' ? 4 : 8
      if (i + 2 + digits > n) throw syntaxError(s, `short \\${e} escape`)
      let v = 0
      for (let k = 0; k < digits; k++) {
        const h = hexValue(s.charCodeAt(i + 2 + k))
        if (h < 0) throw syntaxError(s, `bad hex digit in \\${e} escape`)
        v = v * 16 + h
      }
      if (e === 'x') out.push(v)
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw syntaxError(s, `invalid code point in \\${e} escape`)
        for (const b of utf8Bytes(String.fromCodePoint(v))) out.push(b)
      }
      i += 2 + digits
      continue
    }
    if (e >= '0' && e <= '7') {
      if (i + 4 > n) throw syntaxError(s, 'short octal escape')
      let v = 0
      for (let k = 0; k < 3; k++) {
        const d = s.charCodeAt(i + 1 + k) - 0x30
        if (d < 0 || d > 7) throw syntaxError(s, 'bad octal digit')
        v = v * 8 + d
      }
      if (v > 255) throw syntaxError(s, 'octal escape above \\377')
      out.push(v)
      i += 4
      continue
    }
    throw syntaxError(s, `unknown escape \\${e}`)
  }
  return Uint8Array.from(out)
}
