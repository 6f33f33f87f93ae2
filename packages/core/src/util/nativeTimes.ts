import { futimesSync, lutimesSync } from 'node:fs'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import { floorDiv } from './floorDiv.js'

/**
 * How precisely restore sets file times: `nanosecond` through the system's `utimensat`/`futimens`
 * (called with the prebuilt `koffi` package), `microsecond` through Node's `utimes` where that does not
 * load (Node passes times as a double, and libuv drops sub-microsecond digits).
 */
export type TimePrecision = 'nanosecond' | 'microsecond'

const PACKAGE = 'koffi'

/** `AT_FDCWD` and `AT_SYMLINK_NOFOLLOW` per platform. */
const AT: Partial<Record<NodeJS.Platform, { fdcwd: number; nofollow: number }>> = {
  linux: { fdcwd: -100, nofollow: 0x100 },
  darwin: { fdcwd: -2, nofollow: 0x20 },
  freebsd: { fdcwd: -100, nofollow: 0x200 },
  openbsd: { fdcwd: -100, nofollow: 0x2 },
}

/** Architectures with a 64-bit `time_t` and `long` (where `struct timespec` is two 64-bit words). */
const ARCH_64 = new Set(['x64', 'arm64', 'ppc64', 'riscv64', 'loong64', 's390x', 'mips64el'])

interface KoffiLike {
  load(path: string | null): { func(definition: string): (...args: unknown[]) => unknown }
  errno(): number
}

interface Native {
  utimensat: (dirfd: number, path: Buffer, times: Buffer, flags: number) => number
  futimens: (fd: number, times: Buffer) => number
  errno: () => number
  at: { fdcwd: number; nofollow: number }
}

let loaded: { native: Native } | { error: string } | undefined

function load(): { native: Native } | { error: string } {
  if (loaded !== undefined) return loaded
  const at = AT[process.platform]
  if (at === undefined || !ARCH_64.has(process.arch)) {
    return (loaded = { error: `no nanosecond file times on ${process.platform}-${process.arch}` })
  }
  try {
    const koffi = createRequire(import.meta.url)('koffi') as KoffiLike
    const libc = koffi.load(null)
    const native: Native = {
      utimensat: libc.func('int utimensat(int, const void *, const void *, int)') as Native['utimensat'],
      futimens: libc.func('int futimens(int, const void *)') as Native['futimens'],
      errno: () => koffi.errno(),
      at,
    }
    // self-test: futimens on no descriptor must fail with EBADF
    if (native.futimens(-1, Buffer.alloc(32)) !== -1 || native.errno() !== constants.errno.EBADF) throw new Error('futimens self-test failed')
    loaded = { native }
  } catch (e) {
    loaded = { error: `cannot load ${PACKAGE}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` }
  }
  return loaded
}

/** The precision restore sets times with here (loads the native binding on first use). */
export function timePrecision(): TimePrecision {
  return 'native' in load() ? 'nanosecond' : 'microsecond'
}

/** Why times are set to the microsecond only (for a warning); `undefined` when nanoseconds are in use. */
export function nanosecondTimesUnavailable(): string | undefined {
  const l = load()
  return 'error' in l ? l.error : undefined
}

/**
 * The absolute path of the binding package's entry module, for a worker thread to load; `undefined` if it
 * cannot be found.
 */
export function nativeTimesModulePath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(PACKAGE)
  } catch {
    return undefined
  }
}

const NS_PER_S = 1_000_000_000n


/** Writes the two `struct timespec` (access, modification) of `utimensat` into `out` (native byte order, 64-bit words). */
function fillTimespecs(out: BigInt64Array, atimeNs: bigint, mtimeNs: bigint): void {
  const asec = floorDiv(atimeNs, NS_PER_S)
  const msec = floorDiv(mtimeNs, NS_PER_S)
  out[0] = asec
  out[1] = atimeNs - asec * NS_PER_S
  out[2] = msec
  out[3] = mtimeNs - msec * NS_PER_S
}

/** The two `struct timespec` (access, modification) of `utimensat`, on a 64-bit platform. */
export function timespecPair(atimeNs: bigint, mtimeNs: bigint): Buffer {
  const words = new BigInt64Array(4)
  fillTimespecs(words, atimeNs, mtimeNs)
  return Buffer.from(words.buffer)
}

/**
 * The timespecs of the call under way: the calls are synchronous and read them before they return, so one
 * buffer serves them all (no allocation per file).
 */
const callTimes = new BigInt64Array(4)
const callTimesBytes = Buffer.from(callTimes.buffer)

const US = 1000n

/**
 * Whether this Node's libuv keeps the sub-microsecond digits of the double it is given (libuv 1.52 and
 * later) instead of truncating it toward zero to the microsecond.
 */
const UV_KEEPS_NANOSECONDS = ((): boolean => {
  const [major = 0, minor = 0] = (process.versions.uv ?? '0.0').split('.').map(Number)
  return major > 1 || (major === 1 && minor >= 52)
})()

/**
 * The value to give Node's `utimes` so that the file gets `ns` truncated to the whole microsecond
 * (floor): a decimal string of seconds (Node takes numeric strings, and only they can be negative:
 * a negative number becomes "now"). The double cannot hold every nanosecond, so the value is aimed half
 * a microsecond past the floor, which survives rounding; where libuv truncates toward zero to the
 * microsecond (before 1.52), negative times are aimed half a microsecond before it instead.
 */
export function utimesSeconds(ns: bigint): string {
  const us = floorDiv(ns, US)
  const halfUs = us * US + (us >= 0n || UV_KEEPS_NANOSECONDS ? 500n : -500n)
  const neg = halfUs < 0n
  const abs = neg ? -halfUs : halfUs
  const s = abs / NS_PER_S
  const frac = (abs % NS_PER_S).toString().padStart(9, '0')
  return `${neg ? '-' : ''}${s}.${frac}`
}

function errnoError(errno: number, syscall: string, path?: string | Buffer): NodeJS.ErrnoException {
  const code = Object.entries(constants.errno).find(([, n]) => n === errno)?.[0] ?? `E${errno}`
  const where = path === undefined ? '' : ` '${path.toString()}'`
  return Object.assign(new Error(`${code}: ${syscall} failed${where}`), { errno: -errno, code, syscall })
}

function cPath(path: string | Uint8Array): Buffer {
  const bytes = typeof path === 'string' ? Buffer.from(path) : path
  const b = Buffer.allocUnsafe(bytes.length + 1)
  b.set(bytes, 0)
  b[bytes.length] = 0
  return b
}

/**
 * Sets the access and modification times of `path` without following a symlink (`utimensat` with
 * `AT_SYMLINK_NOFOLLOW`): to the nanosecond where {@link timePrecision} is `nanosecond`, else to the
 * microsecond with Node's `lutimes`. Throws the system error.
 */
export function setPathTimes(path: string | Uint8Array, atimeNs: bigint, mtimeNs: bigint): void {
  const l = load()
  if ('native' in l) {
    const n = l.native
    fillTimespecs(callTimes, atimeNs, mtimeNs)
    if (n.utimensat(n.at.fdcwd, cPath(path), callTimesBytes, n.at.nofollow) !== 0) {
      throw errnoError(n.errno(), 'utimensat', typeof path === 'string' ? path : Buffer.from(path))
    }
    return
  }
  const p = typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength)
  lutimesSync(p, utimesSeconds(atimeNs), utimesSeconds(mtimeNs))
}

/** {@link setPathTimes} for an open file descriptor (`futimens`). */
export function setFdTimes(fd: number, atimeNs: bigint, mtimeNs: bigint): void {
  const l = load()
  if ('native' in l) {
    fillTimespecs(callTimes, atimeNs, mtimeNs)
    if (l.native.futimens(fd, callTimesBytes) !== 0) throw errnoError(l.native.errno(), 'futimens')
    return
  }
  futimesSync(fd, utimesSeconds(atimeNs), utimesSeconds(mtimeNs))
}
