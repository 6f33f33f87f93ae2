import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { goJsonString, goJsonStringFromBytes, goQuote, goUnquote, RusticError, utf8Lossy } from '@rustic-ts/core/internal'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('goQuote', () => {
  // SHA-256 of the quoted forms (each followed by '\n'), computed with go1.19.8's strconv.Quote —
  // the Go that built restic 0.14 (Unicode 13 tables for "printable").
  it('matches Go 1.19 strconv.Quote for every code point', () => {
    const h = createHash('sha256')
    const buf = Buffer.alloc(4)
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue
      const n = buf.write(String.fromCodePoint(cp))
      h.update(goQuote(buf.subarray(0, n)) + '\n')
    }
    expect(h.digest('hex')).toBe('d9daa0d1260328d4e4558c9a27edcadc3d46f5cf357ed95c15592e66c95a7386')
  })

  it('matches Go 1.19 for every pair of bytes (invalid UTF-8 as \\xNN)', () => {
    const h = createHash('sha256')
    const b = new Uint8Array(2)
    for (let x = 0; x < 256; x++) {
      for (let y = 0; y < 256; y++) {
        b[0] = x
        b[1] = y
        h.update(goQuote(b) + '\n')
      }
    }
    expect(h.digest('hex')).toBe('73c10d5fedce6f33da35ed02ba86ba6a6aee9e7df0077d05d9095650953d344d')
  })

  it('matches Go 1.19 for truncated and broken multi-byte sequences', () => {
    const h = createHash('sha256')
    const b = new Uint8Array(4)
    for (let x = 0xc0; x < 256; x++) {
      for (let y = 0x70; y < 0xd0; y++) {
        for (let z = 0x70; z < 0xd0; z += 7) {
          for (const w of [0x41, 0x80, 0xbf, 0xc0]) {
            b.set([x, y, z, w])
            h.update(goQuote(b) + '\n')
          }
        }
      }
    }
    expect(h.digest('hex')).toBe('345571a1a3c66bb0644dbe90a8415dad634e7b81c1337df63236629ca29ac16a')
  })

  it('writes the stored names seen in restic trees', () => {
    // stored JSON = goJsonString(goQuote(name))
    const stored = (name: Uint8Array | string): string => goJsonString(goQuote(typeof name === 'string' ? enc(name) : name))
    expect(stored('we"ird\\name')).toBe('"we\\\\\\"ird\\\\\\\\name"')
    expect(stored('bel\x07')).toBe('"bel\\\\a"')
    expect(stored('nb\u00a0sp')).toBe('"nb\\\\u00a0sp"')
    expect(stored('ls\u2028')).toBe('"ls\\\\u2028"')
    expect(stored('zw\u200dj')).toBe('"zw\\\\u200dj"')
    expect(stored(Uint8Array.from([0x61, 0xff]))).toBe('"a\\\\xff"')
    expect(stored('😀ü日本')).toBe('"😀ü日本"')
    expect(stored('a<b>&c')).toBe('"a\\u003cb\\u003e\\u0026c"')
    expect(goQuote(enc('\x00\x1b\x7f\t\n'))).toBe('\\x00\\x1b\\x7f\\t\\n')
    // U+1FAE0 (Unicode 14) is unassigned in Go 1.19's tables: escaped
    expect(goQuote(enc('\u{1fae0}'))).toBe('\\U0001fae0')
  })
})

describe('goUnquote', () => {
  it('inverts goQuote for random bytes and special names', () => {
    for (let i = 0; i < 2000; i++) {
      const b = new Uint8Array(randomBytes(1 + (i % 40)))
      expect(goUnquote(goQuote(b))).toEqual(b)
    }
    for (const s of ['we"ird\\name', 'bel\x07', '\u00a0', '\u2028', '😀ü日本', '\u{1fae0}', '']) {
      expect(Buffer.from(goUnquote(goQuote(enc(s)))).toString()).toBe(s)
    }
  })

  it('accepts every Go escape', () => {
    expect(Buffer.from(goUnquote('\\a\\b\\f\\n\\r\\t\\v\\\\\\"')).toString('hex')).toBe('07080c0a0d090b5c22')
    expect(Buffer.from(goUnquote('\\101\\x41\\u0041\\U00000041')).toString()).toBe('AAAA')
    expect(Buffer.from(goUnquote('\\U0001F600\\u00e9')).toString()).toBe('😀é')
    expect(goUnquote('\\xff\\xFE')).toEqual(Uint8Array.from([0xff, 0xfe]))
    // raw control and non-printable characters are accepted as they are
    expect(Buffer.from(goUnquote('\x07\u00a0')).toString()).toBe('\x07\u00a0')
  })

  it('rejects what Go rejects', () => {
    for (const bad of ['a"b', 'a\nb', '\\q', '\\x4', '\\x4g', '\\ud800', '\\U00110000', '\\400', '\\', "\\'", '\\8']) {
      expect(() => goUnquote(bad), bad).toThrow(RusticError)
    }
  })
})

describe('Go JSON of byte strings', () => {
  it('writes each invalid byte as the escape \\ufffd, as go1.19 encoding/json', () => {
    const b = (...x: number[]): Uint8Array => Uint8Array.from(x)
    expect(goJsonStringFromBytes(b(0x61, 0xff, 0x62))).toBe('"a\\ufffdb"')
    expect(goJsonStringFromBytes(b(0xe2, 0x82))).toBe('"\\ufffd\\ufffd"')
    expect(goJsonStringFromBytes(b(0xed, 0xa0, 0x80, 0x78))).toBe('"\\ufffd\\ufffd\\ufffdx"')
    expect(goJsonStringFromBytes(Buffer.concat([enc('\ufffd'), b(0xff)]))).toBe('"\ufffd\\ufffd"')
    expect(goJsonStringFromBytes(enc('ok\u2028<&>\b\f\x01\x7f'))).toBe('"ok\\u2028\\u003c\\u0026\\u003e\\u0008\\u000c\\u0001\x7f"')
    expect(utf8Lossy(b(0xe2, 0x82, 0x41))).toBe('\ufffd\ufffdA')
  })
})
