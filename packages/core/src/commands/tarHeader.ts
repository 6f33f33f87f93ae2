/**
 * tar headers as restic 0.14's `dump` writes them: Go's `archive/tar` with the format left to the writer.
 *
 * The modification time is rounded to the second (halves up) and access and change times are left out;
 * the plain USTAR header is used when every field fits, else a PAX extended header (`x`) carries what does
 * not: a negative or huge `mtime`, a non-ASCII or long `path` / `linkpath` / `uname` / `gname`, a large
 * `uid` / `gid` / `size`, and extended attributes (`SCHILY.xattr.*`). Go's zero time (year 1) is written
 * as 0, as Go does. One difference, on purpose: when a PAX header is written for another reason, a long
 * ASCII name that USTAR could have split goes into a `path` record, where Go truncates it to 100 bytes.
 */

const BLOCK = 512
const NS_PER_S = 1_000_000_000n
/** Unix seconds of Go's zero time, 0001-01-01T00:00:00Z. */
const GO_ZERO_UNIX_S = -62135596800n

const encoder = new TextEncoder()

/** The types of entries in the tar stream, as `type` of {@link TarEntryHeader}. */
export type TarEntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'dev'

const TYPEFLAG: Record<TarEntryType, number> = {
  file: 0x30, // '0'
  symlink: 0x32, // '2'
  chardev: 0x33, // '3'
  dev: 0x34, // '4'
  dir: 0x35, // '5'
  fifo: 0x36, // '6'
}

/** One entry's header fields. */
export interface TarEntryHeader {
  /** Path in the archive (directories end in `/`). */
  name: string
  /** Entry type. */
  type: TarEntryType
  /** Permission bits with setuid (04000), setgid (02000) and sticky (01000). */
  mode: number
  /** Owner. */
  uid: number
  /** Group. */
  gid: number
  /** Owner name. */
  uname: string
  /** Group name. */
  gname: string
  /** Content length (files). */
  size: bigint
  /** Modification time in Unix nanoseconds (`undefined`: 1970-01-01). */
  mtimeNs?: bigint
  /** Symlink target. */
  linkname?: string
  /** Device numbers (device nodes). */
  devmajor?: number
  devminor?: number
  /** Extra PAX records (e.g. `SCHILY.xattr.<name>`), values as bytes. */
  pax?: ReadonlyArray<readonly [string, Uint8Array]>
}

function isAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return false
  return true
}

function hasNul(b: Uint8Array): boolean {
  return b.includes(0)
}

/** Go's `toASCII`: the string without its non-ASCII characters and NULs. */
function toAscii(s: string): Uint8Array {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80 && c !== 0) out += s[i]
  }
  return encoder.encode(out)
}

/** Go's `fitsInOctal`: whether `x` fits a field of `size` bytes as octal digits and a NUL. */
function fitsOctal(size: number, x: bigint): boolean {
  return x >= 0n && (size >= 22 || x < 1n << BigInt((size - 1) * 3))
}

/** Go's `splitUSTARPath`: the prefix/name split of a long ASCII path, or `undefined`. */
function splitUstarPath(name: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  let length = name.length
  if (length <= 100 || !isAscii(name)) return undefined
  if (length > 156) length = 156
  else if (name[length - 1] === 0x2f) length--
  const i = name.subarray(0, length).lastIndexOf(0x2f)
  const nlen = name.length - i - 1
  if (i <= 0 || nlen > 100 || nlen === 0 || i > 155) return undefined
  return [name.subarray(0, i), name.subarray(i + 1)]
}

/** Go's `formatString`: copied, NUL-terminated when shorter, truncated when longer (no trailing `/` kept). */
function putString(block: Uint8Array, offset: number, size: number, s: Uint8Array): void {
  block.set(s.subarray(0, size), offset)
  if (s.length > size && block[offset + size - 1] === 0x2f) {
    let n = size - 1
    while (n > 0 && block[offset + n - 1] === 0x2f) n--
    block[offset + n] = 0
  }
}

/** Go's `formatOctal`: zero-padded octal digits and a NUL; 0 when the value does not fit. */
function putOctal(block: Uint8Array, offset: number, size: number, x: bigint): void {
  const digits = (fitsOctal(size, x) ? x : 0n).toString(8).padStart(size - 1, '0')
  block.set(encoder.encode(digits), offset)
}

/** Go's `formatPAXRecord`: `<len> <key>=<value>\n`, the length counting itself. */
function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const k = encoder.encode(key)
  let size = k.length + value.length + 3
  size += String(size).length
  if (String(size).length + k.length + value.length + 3 !== size) size = String(size).length + k.length + value.length + 3
  const head = encoder.encode(`${size} ${key}=`)
  const out = new Uint8Array(size)
  out.set(head, 0)
  out.set(value, head.length)
  out[size - 1] = 0x0a
  return out
}

/** Sets the USTAR magic and version (`ustar\0` `00`) and the checksum, as Go's `setFormat(USTAR|PAX)`. */
function finish(block: Uint8Array): void {
  block.set(encoder.encode('ustar\x0000'), 257)
  block.fill(0x20, 148, 156)
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += block[i]!
  block.set(encoder.encode(sum.toString(8).padStart(6, '0')), 148)
  block[154] = 0
  block[155] = 0x20
}

/** Go's `path.Join(dir, "PaxHeaders.0", file)` for the PAX header's own name. */
function paxHeaderName(name: string): string {
  const cut = name.lastIndexOf('/') + 1
  const dir = name.slice(0, cut).replace(/\/+$/, '')
  const file = name.slice(cut)
  return [dir, 'PaxHeaders.0', file].filter((p) => p !== '').join('/')
}

/**
 * The tar mtime of a time as Go's writer chooses it: seconds rounded (halves up), or `undefined` for Go's
 * zero time (written as 0). Exported for tests.
 */
export function tarMtimeSeconds(ns: bigint): bigint | undefined {
  const q = ns + NS_PER_S / 2n
  const s = q >= 0n || q % NS_PER_S === 0n ? q / NS_PER_S : q / NS_PER_S - 1n
  return s === GO_ZERO_UNIX_S ? undefined : s
}

/**
 * The header block(s) of one entry: a PAX extended header (its header block and records, padded) when
 * the USTAR header cannot hold a value, then the entry's own header block.
 */
export function tarHeader(h: TarEntryHeader): Uint8Array {
  const name = encoder.encode(h.name)
  const linkname = encoder.encode(h.linkname ?? '')
  const uname = encoder.encode(h.uname)
  const gname = encoder.encode(h.gname)
  const records = new Map<string, Uint8Array>()
  let ustar = true
  let split: [Uint8Array, Uint8Array] | undefined

  // verifyString: path (USTAR may split it), linkpath, uname, gname
  if (!isAscii(name) || name.length > 100) {
    split = splitUstarPath(name)
    if (split === undefined) {
      ustar = false
      records.set('path', name)
    }
  }
  for (const [key, value, size] of [
    ['linkpath', linkname, 100],
    ['uname', uname, 32],
    ['gname', gname, 32],
  ] as const) {
    if (!isAscii(value) || value.length > size) {
      ustar = false
      records.set(key, value)
    }
  }
  // verifyNumeric
  for (const [key, value, size] of [
    ['uid', BigInt(h.uid), 8],
    ['gid', BigInt(h.gid), 8],
    ['size', h.size, 12],
  ] as const) {
    if (!fitsOctal(size, value)) {
      ustar = false
      records.set(key, encoder.encode(value.toString()))
    }
  }
  // verifyTime (mtime only: atime and ctime are dropped)
  const mtime = h.mtimeNs === undefined ? 0n : tarMtimeSeconds(h.mtimeNs)
  if (mtime !== undefined && !fitsOctal(12, mtime)) {
    ustar = false
    records.set('mtime', encoder.encode(mtime.toString()))
  }
  for (const [key, value] of h.pax ?? []) {
    if (key === '' || key.includes('=') || key.includes('\0')) continue // not a valid PAX record
    ustar = false
    if (!records.has(key)) records.set(key, value)
  }
  if (!ustar && split !== undefined) records.set('path', name) // where Go would truncate the name

  const main = new Uint8Array(BLOCK)
  // USTAR fields hold the bytes; PAX main headers hold Go's ASCII-only form (the records hold the rest)
  const str = (text: string, bytes: Uint8Array): Uint8Array => (ustar ? bytes : toAscii(text))
  putString(main, 0, 100, split && ustar ? split[1] : str(h.name, name))
  putOctal(main, 100, 8, BigInt(h.mode & 0o7777))
  putOctal(main, 108, 8, BigInt(h.uid))
  putOctal(main, 116, 8, BigInt(h.gid))
  putOctal(main, 124, 12, h.type === 'file' ? h.size : 0n)
  putOctal(main, 136, 12, mtime ?? 0n)
  main[156] = TYPEFLAG[h.type]
  putString(main, 157, 100, str(h.linkname ?? '', linkname))
  putString(main, 265, 32, str(h.uname, uname))
  putString(main, 297, 32, str(h.gname, gname))
  putOctal(main, 329, 8, BigInt(h.devmajor ?? 0))
  putOctal(main, 337, 8, BigInt(h.devminor ?? 0))
  if (split && ustar) putString(main, 345, 155, split[0])
  finish(main)
  if (ustar) return main

  const keys = [...records.keys()].filter((k) => !((k === 'path' || k === 'linkpath' || k === 'uname' || k === 'gname') && hasNul(records.get(k)!))).sort()
  const body = keys.map((k) => paxRecord(k, records.get(k)!))
  const bodyLength = body.reduce((n, r) => n + r.length, 0)
  const padded = Math.ceil(bodyLength / BLOCK) * BLOCK
  const out = new Uint8Array(BLOCK + padded + BLOCK)
  const ext = out.subarray(0, BLOCK)
  const extName = toAscii(paxHeaderName(h.name)).subarray(0, 100)
  let end = extName.length
  while (end > 0 && extName[end - 1] === 0x2f) end--
  putString(ext, 0, 100, extName.subarray(0, end))
  putOctal(ext, 100, 8, 0n)
  putOctal(ext, 108, 8, 0n)
  putOctal(ext, 116, 8, 0n)
  putOctal(ext, 124, 12, BigInt(bodyLength))
  putOctal(ext, 136, 12, 0n)
  ext[156] = 0x78 // 'x'
  finish(ext)
  let at = BLOCK
  for (const r of body) {
    out.set(r, at)
    at += r.length
  }
  out.set(main, BLOCK + padded)
  return out
}

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function tarPadding(size: bigint): Uint8Array {
  return new Uint8Array(Number((BigInt(BLOCK) - (size % BigInt(BLOCK))) % BigInt(BLOCK)))
}

/** The end of a tar stream: two zero blocks (Go writes no further padding). */
export function tarTrailer(): Uint8Array {
  return new Uint8Array(2 * BLOCK)
}
