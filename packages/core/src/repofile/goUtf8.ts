/**
 * UTF-8 as Go reads it: byte strings that may hold invalid sequences, decoded one rune at a time
 * (each invalid byte on its own, as `utf8.DecodeRune` does — unlike `TextDecoder`, which replaces
 * maximal subparts).
 */
import { isUtf8 } from 'node:buffer'
import { goJsonString } from './goJson.js'

/**
 * Decodes the rune starting at `bytes[i]` as Go's `utf8.DecodeRune` does. Returns the code point,
 * or -1 for an invalid byte (which then counts as one byte). The length of a valid rune is
 * {@link runeLength} of the result.
 */
export function decodeGoRune(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!
  if (b0 < 0x80) return b0
  const n = bytes.length
  if (b0 < 0xc2 || b0 > 0xf4) return -1
  if (b0 < 0xe0) {
    const b1 = i + 1 < n ? bytes[i + 1]! : 0
    if ((b1 & 0xc0) !== 0x80) return -1
    return ((b0 & 0x1f) << 6) | (b1 & 0x3f)
  }
  if (b0 < 0xf0) {
    const b1 = i + 1 < n ? bytes[i + 1]! : 0
    const lo = b0 === 0xe0 ? 0xa0 : 0x80
    const hi = b0 === 0xed ? 0x9f : 0xbf
    if (b1 < lo || b1 > hi) return -1
    const b2 = i + 2 < n ? bytes[i + 2]! : 0
    if ((b2 & 0xc0) !== 0x80) return -1
    return ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f)
  }
  const b1 = i + 1 < n ? bytes[i + 1]! : 0
  const lo = b0 === 0xf0 ? 0x90 : 0x80
  const hi = b0 === 0xf4 ? 0x8f : 0xbf
  if (b1 < lo || b1 > hi) return -1
  const b2 = i + 2 < n ? bytes[i + 2]! : 0
  const b3 = i + 3 < n ? bytes[i + 3]! : 0
  if ((b2 & 0xc0) !== 0x80 || (b3 & 0xc0) !== 0x80) return -1
  return ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f)
}

/** The number of UTF-8 bytes of a valid code point (1 for -1, the invalid byte of {@link decodeGoRune}). */
export function runeLength(cp: number): number {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
}

/** True if `bytes` is valid UTF-8 (no surrogates, no overlong forms), as Go's `utf8.Valid`. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return isUtf8(bytes)
}

const encoder = new TextEncoder()
/** Keeps a leading U+FEFF (a file name may start with one; the default decoder drops it). */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true })

/** UTF-8 bytes of a string (lone surrogates become U+FFFD). */
export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s)
}

/** A string from UTF-8 bytes, lossy for invalid bytes (one U+FFFD per invalid byte, as Go converts). */
export function utf8Lossy(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return decoder.decode(bytes)
  let out = ''
  let start = 0
  let i = 0
  while (i < bytes.length) {
    const cp = decodeGoRune(bytes, i)
    if (cp < 0) {
      out += decoder.decode(bytes.subarray(start, i)) + '\ufffd'
      i++
      start = i
    } else {
      i += runeLength(cp)
    }
  }
  return out + decoder.decode(bytes.subarray(start))
}

/**
 * The JSON string literal (with quotes) Go's `encoding/json` writes for a Go string holding `bytes`:
 * like `goJsonString`, and each invalid byte becomes the escape `\ufffd` (Go writes real U+FFFD raw).
 */
export function goJsonStringFromBytes(bytes: Uint8Array): string {
  if (isUtf8(bytes)) return goJsonString(decoder.decode(bytes))
  let out = '"'
  let start = 0
  let i = 0
  while (i < bytes.length) {
    const cp = decodeGoRune(bytes, i)
    if (cp < 0) {
      if (start < i) out += goJsonString(decoder.decode(bytes.subarray(start, i))).slice(1, -1)
      out += '\\ufffd'
      i++
      start = i
    } else {
      i += runeLength(cp)
    }
  }
  if (start < bytes.length) out += goJsonString(decoder.decode(bytes.subarray(start))).slice(1, -1)
  return out + '"'
}
