import { createRequire } from 'node:module'
import * as zlib from 'node:zlib'
import { RusticError } from '../error/RusticError.js'

/**
 * A zstd implementation. rustic-ts uses the first of these that loads: Node's own zstd
 * ({@link nodeZlibZstd}, Node >= 22.15), `zstd-napi` ({@link nativeZstd}), the prebuilt
 * `@toondepauw/node-zstd` ({@link prebuiltZstd}); where none loads, the pure-JS {@link pureJsZstd},
 * which only decompresses. Errors thrown here are plain; {@link compress}/{@link decompress} wrap them.
 */
export interface ZstdProvider {
  /** A short name, e.g. `node:zlib`, `zstd-napi` or `fzstd`. */
  readonly name: string
  /** `false` for a provider that only decompresses (its `compress` throws); compressing is the default. */
  readonly compresses?: boolean
  /** One zstd frame of `data` at `level`, without checksum. */
  compress(data: Uint8Array, level: number): Uint8Array
  /** The content of the zstd frame(s) in `data`; with `expectedLength`, never produces more than that. */
  decompress(data: Uint8Array, expectedLength?: number): Uint8Array
}

/** What loaded (a provider, the buffer calls of one), or why it cannot be used here (one line). */
type Loaded<T = ZstdProvider> = { provider: T } | { error: string }

const require = createRequire(import.meta.url)

/** The first line of a load error, for messages. */
function reason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!
}

/**
 * `b` as a plain `Uint8Array` over the same memory: what providers return (a `Buffer`'s `slice` is a
 * view, not a copy, and `Buffer`s compare unequal to `Uint8Array`s in deep equality checks).
 */
function plain(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.length)
}

/** Loads something once and keeps the outcome. */
function once<T = ZstdProvider>(load: () => T): () => Loaded<T> {
  let loaded: Loaded<T> | undefined
  return () => {
    if (loaded === undefined) {
      try {
        loaded = { provider: load() }
      } catch (e) {
        loaded = { error: reason(e) }
      }
    }
    return loaded
  }
}

/** The zstd functions of `node:zlib` (Node >= 22.15 and 23.8; not in Node 20's type definitions). */
interface ZlibZstd {
  zstdCompressSync(data: Uint8Array, options: { params: Record<number, number>; pledgedSrcSize?: number }): Buffer
  zstdDecompressSync(data: Uint8Array, options?: { maxOutputLength?: number }): Buffer
  constants: { ZSTD_c_compressionLevel: number }
}

const loadNodeZlib = once(() => {
  const z = zlib as unknown as Partial<ZlibZstd>
  if (typeof z.zstdCompressSync !== 'function' || typeof z.zstdDecompressSync !== 'function') {
    throw new Error(`Node ${process.version} has no zstd in node:zlib (Node >= 22.15 has)`)
  }
  const { zstdCompressSync, zstdDecompressSync } = z as ZlibZstd
  const LEVEL = (z as ZlibZstd).constants.ZSTD_c_compressionLevel
  return {
    name: 'node:zlib',
    compress: (data, level) => plain(zstdCompressSync(data, { params: { [LEVEL]: level }, pledgedSrcSize: data.length })),
    // maxOutputLength: a frame that holds more than expected fails instead of allocating it.
    decompress: (data, expectedLength) =>
      plain(zstdDecompressSync(data, expectedLength === undefined ? undefined : { maxOutputLength: Math.max(1, expectedLength) })),
  }
})

/** Node's own zstd (`node:zlib`, libzstd 1.5.x, Node >= 22.15), or `undefined` on older Node. */
export function nodeZlibZstd(): ZstdProvider | undefined {
  const l = loadNodeZlib()
  return 'provider' in l ? l.provider : undefined
}

type ZstdBinding = typeof import('zstd-napi/binding.js')
type ZstdNapi = typeof import('zstd-napi')

/**
 * zstd working in the caller's buffers, for code that reuses its buffers (the worker threads): see
 * {@link zstdBuffers}. One per thread.
 */
export interface ZstdBuffers {
  /** The provider doing the work (`zstd-napi`, `node:zlib`, ...). */
  readonly name: string
  /** The most bytes compressing `length` bytes can give. */
  compressBound(length: number): number
  /** Compresses `data` into `out` (room for `compressBound(data.length)`), one frame at `level`; returns its length. */
  compressInto(out: Uint8Array, data: Uint8Array, level: number): number
  /** Decompresses the frame(s) in `data` into `out`, never more than `out.length` bytes; returns the length. */
  decompressInto(out: Uint8Array, data: Uint8Array): number
}

/** zstd-napi's {@link ZstdBuffers}, which also decompress as a stream ({@link nativeZstdBuffers}). */
export interface ZstdStreamBuffers extends ZstdBuffers {
  /**
   * Streaming decompression (one stream at a time per thread; `ZSTD_decompressStream`): decompresses what
   * it can of `data` into `out` and returns `[hint, produced, consumed]`, `hint` 0 once a frame is decoded
   * and all of it given out. Call again with the rest of `data` (or none) while `out` comes back full.
   */
  decompressStream(out: Uint8Array, data: Uint8Array): [hint: number, produced: number, consumed: number]
  /** Starts a new stream for {@link ZstdStreamBuffers.decompressStream}, dropping a frame left unfinished. */
  resetStream(): void
}

/** zstd-napi's compressor and decompressors on the caller's buffers (no copies). */
const loadZstdNapiBuffers = once<ZstdStreamBuffers>(() => {
  const binding = require('zstd-napi/binding.js') as ZstdBinding
  const cctx = new binding.CCtx()
  const dctx = new binding.DCtx()
  let sctx: InstanceType<ZstdBinding['DCtx']> | undefined
  return {
    name: 'zstd-napi',
    compressBound: (length) => binding.compressBound(length),
    compressInto: (out, data, level) => cctx.compress(out, data, level),
    decompressInto: (out, data) => dctx.decompress(out, data),
    decompressStream: (out, data) => (sctx ??= new binding.DCtx()).decompressStream(out, data),
    resetStream: () => sctx?.reset(binding.ResetDirective.sessionOnly),
  }
})

const loadZstdNapi = once(() => {
  const loaded = loadZstdNapiBuffers()
  if ('error' in loaded) throw new Error(loaded.error)
  const buffers = loaded.provider
  const napi = require('zstd-napi') as ZstdNapi
  const decompressor = new napi.Decompressor()
  let scratch = Buffer.alloc(0)
  return {
    name: 'zstd-napi',
    compress(data, level) {
      const bound = buffers.compressBound(data.length)
      if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, 64 * 1024))
      const n = buffers.compressInto(scratch, data, level)
      return plain(Uint8Array.prototype.slice.call(scratch, 0, n))
    },
    decompress(data, expectedLength) {
      if (expectedLength === undefined) return new Uint8Array(decompressor.decompress(data))
      // Single pass into a buffer of the expected size: a frame claiming more fails instead of allocating.
      const out = new Uint8Array(expectedLength)
      const n = buffers.decompressInto(out, data)
      return n === expectedLength ? out : out.subarray(0, n)
    },
  }
})

/**
 * zstd-napi's zstd on the caller's buffers, streaming included, or `undefined` if it cannot be loaded here
 * (whatever the provider in use: for reading, where any zstd decoder will do).
 */
export function nativeZstdBuffers(): ZstdStreamBuffers | undefined {
  const l = loadZstdNapiBuffers()
  return 'provider' in l ? l.provider : undefined
}

/**
 * The native zstd of `zstd-napi` (libzstd 1.5.x), or `undefined` if it cannot be loaded here (its
 * install script downloads or builds the binary, which fails without a compiler or with scripts off).
 */
export function nativeZstd(): ZstdProvider | undefined {
  const l = loadZstdNapi()
  return 'provider' in l ? l.provider : undefined
}

interface NodeZstdModule {
  Encoder: new (level: number) => { encodeSync(data: Uint8Array): Buffer }
  Decoder: new () => { decodeSync(data: Uint8Array): Buffer }
}

const loadPrebuilt = once(() => {
  const m = require('@toondepauw/node-zstd') as NodeZstdModule
  const encoders = new Map<number, { encodeSync(data: Uint8Array): Buffer }>()
  const decoder = new m.Decoder()
  return {
    name: '@toondepauw/node-zstd',
    compress(data, level) {
      let encoder = encoders.get(level)
      if (!encoder) encoders.set(level, (encoder = new m.Encoder(level)))
      return plain(encoder.encodeSync(data))
    },
    decompress(data, expectedLength) {
      // This decoder sizes its output itself: refuse a frame that says it holds more than expected.
      const size = frameContentSize(data)
      if (expectedLength !== undefined && size !== undefined && size > expectedLength) {
        throw new Error(`the frame holds ${size} bytes`)
      }
      return plain(decoder.decodeSync(data))
    },
  }
})

/**
 * The zstd of `@toondepauw/node-zstd` (libzstd 1.5.x through the Rust `zstd` crate), whose binaries
 * come prebuilt in per-platform packages (no install script, no compiler), or `undefined` where it has
 * no binary for this platform.
 */
export function prebuiltZstd(): ZstdProvider | undefined {
  const l = loadPrebuilt()
  return 'provider' in l ? l.provider : undefined
}

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd]
const RAW_BLOCK_MAX = 128 * 1024

/** The content size a zstd frame's header declares, if it declares one. */
export function frameContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 5 || ZSTD_MAGIC.some((b, i) => frame[i] !== b)) return undefined
  const fhd = frame[4]!
  const fcsFlag = fhd >> 6
  const singleSegment = (fhd >> 5) & 1
  const dictIdBytes = [0, 1, 2, 4][fhd & 3]!
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag
  if (fcsBytes === 0) return undefined
  const at = 5 + (singleSegment ? 0 : 1) + dictIdBytes
  if (frame.length < at + fcsBytes) return undefined
  const view = new DataView(frame.buffer, frame.byteOffset + at, fcsBytes)
  switch (fcsBytes) {
    case 1:
      return view.getUint8(0)
    case 2:
      return view.getUint16(0, true) + 256
    case 4:
      return view.getUint32(0, true)
    default:
      return Number(view.getBigUint64(0, true))
  }
}

/**
 * A valid zstd frame that stores `data` in raw (uncompressed) blocks. Any zstd decoder reads it.
 * rustic-ts never writes these itself: without a compressor it stores data uncompressed (see {@link compress}).
 */
export function zstdStoredFrame(data: Uint8Array): Uint8Array {
  const n = data.length
  const blocks = Math.max(1, Math.ceil(n / RAW_BLOCK_MAX))
  const out = new Uint8Array(4 + 1 + 8 + 3 * blocks + n)
  out.set(ZSTD_MAGIC, 0)
  // Frame header: single segment, 8-byte content size, no checksum, no dictionary.
  out[4] = 0b1110_0000
  const view = new DataView(out.buffer)
  view.setBigUint64(5, BigInt(n), true)
  let pos = 13
  for (let i = 0, off = 0; i < blocks; i++, off += RAW_BLOCK_MAX) {
    const size = Math.min(RAW_BLOCK_MAX, n - off)
    const last = i === blocks - 1 ? 1 : 0
    const header = last | (0 << 1) | (size << 3)
    out[pos] = header & 0xff
    out[pos + 1] = (header >>> 8) & 0xff
    out[pos + 2] = (header >>> 16) & 0xff
    out.set(data.subarray(off, off + size), pos + 3)
    pos += 3 + size
  }
  return out
}

/** Pure-JS zstd (`fzstd`): decompresses only (no pure-JS zstd encoder is available); its `compress` throws. */
export const pureJsZstd: ZstdProvider = {
  name: 'fzstd',
  compresses: false,
  compress: () => {
    throw new Error('fzstd only decompresses')
  },
  // fzstd returns the whole buffer it is given, whatever it wrote: let it size the output itself.
  decompress: (data) => fzstd().decompress(data),
}

let fzstdModule: typeof import('fzstd') | undefined

/** `fzstd`, loaded on first use: it is only a fallback, so start-up does not pay for it. */
function fzstd(): typeof import('fzstd') {
  fzstdModule ??= require('fzstd') as typeof import('fzstd')
  return fzstdModule
}

/** The compressing providers, in order of preference, with how each one loads. */
const CANDIDATES: ReadonlyArray<readonly [string, () => Loaded]> = [
  ['node:zlib', loadNodeZlib],
  ['zstd-napi', loadZstdNapi],
  ['@toondepauw/node-zstd', loadPrebuilt],
]

/**
 * Every zstd provider that loads here, in order of preference, the decompress-only {@link pureJsZstd}
 * last (tests run the same data through each).
 */
export function zstdProviders(): ZstdProvider[] {
  const all: ZstdProvider[] = []
  for (const [, load] of CANDIDATES) {
    const l = load()
    if ('provider' in l) all.push(l.provider)
  }
  return [...all, pureJsZstd]
}

let current: ZstdProvider | undefined

/** The zstd provider in use: the first of `node:zlib`, `zstd-napi`, `@toondepauw/node-zstd` that loads, else {@link pureJsZstd}. */
export function zstdProvider(): ZstdProvider {
  current ??= firstProvider()
  return current
}

/** The first provider that loads (the later ones are not loaded: each is a native library). */
function firstProvider(): ZstdProvider {
  for (const [, load] of CANDIDATES) {
    const l = load()
    if ('provider' in l) return l.provider
  }
  return pureJsZstd
}

/** Chooses the zstd provider (e.g. one of {@link zstdProviders}, or your own). */
export function setZstdProvider(provider: ZstdProvider): void {
  current = provider
}

/** The most bytes a zstd frame of `length` bytes takes (libzstd's `ZSTD_COMPRESSBOUND`). */
export function zstdCompressBound(length: number): number {
  const small = 128 << 10
  return length + (length >>> 8) + (length < small ? (small - length) >>> 11 : 0)
}

/** {@link ZstdBuffers} over a provider that returns new arrays: it compresses or decompresses, then copies. */
function copyingBuffers(p: ZstdProvider): ZstdBuffers {
  return {
    name: p.name,
    compressBound: zstdCompressBound,
    compressInto(out, data, level) {
      const z = p.compress(data, level)
      if (z.length > out.length) throw new Error(`the frame (${z.length} bytes) does not fit its buffer (${out.length} bytes)`)
      out.set(z)
      return z.length
    },
    decompressInto(out, data) {
      const d = p.decompress(data, out.length)
      if (d.length > out.length) throw new Error(`the frame holds more than ${out.length} bytes`)
      out.set(d)
      return d.length
    },
  }
}

/** True for the providers of this module (the workers can load them by name), false for one of the caller's. */
function isBuiltIn(p: ZstdProvider): boolean {
  if (p === pureJsZstd) return true
  const l = CANDIDATES.find(([name]) => name === p.name)?.[1]() // only the candidate of that name: no other library loaded
  return l !== undefined && 'provider' in l && l.provider === p
}

/**
 * zstd on the caller's buffers, as the worker threads use it, for the built-in provider named `name`
 * (the one a pool's main thread uses, so workers and main thread write alike), by default the one in
 * use here. `zstd-napi` works in the buffers themselves; `node:zlib`, `@toondepauw/node-zstd` and the
 * decompress-only `fzstd` work on their own arrays, copied into the buffers. `undefined` if that
 * provider does not load here, or if the provider in use is not a built-in one (one given to
 * {@link setZstdProvider}): the worker pools then stay off and the main thread does the work.
 */
export function zstdBuffers(name?: string): ZstdBuffers | undefined {
  if (name === undefined) {
    const p = zstdProvider()
    if (!isBuiltIn(p)) return undefined
    name = p.name
  }
  if (name === 'zstd-napi') {
    const l = loadZstdNapiBuffers()
    return 'provider' in l ? l.provider : undefined
  }
  if (name === pureJsZstd.name) return copyingBuffers(pureJsZstd)
  const load = CANDIDATES.find(([n]) => n === name)?.[1]
  const l = load?.()
  return l && 'provider' in l ? copyingBuffers(l.provider) : undefined
}

/**
 * Why the provider in use cannot compress (one line naming what was tried), or `undefined` if it can.
 * Writing compressed data then fails ({@link compress}); with compression `auto`, rustic-ts warns once
 * and writes uncompressed instead.
 */
export function zstdCompressorUnavailable(): string | undefined {
  const p = zstdProvider()
  if (p.compresses !== false) return undefined
  if (p !== pureJsZstd) return `the zstd provider in use (${p.name}) only decompresses`
  const why = CANDIDATES.map(([name, load]) => {
    const l = load()
    return `${name}: ${'error' in l ? l.error : 'not chosen'}`
  })
  return `no zstd compressor loads here (${why.join('; ')}): use Node >= 22.15, or install zstd-napi or @toondepauw/node-zstd`
}

/**
 * Compresses `data` into one zstd frame at `level` (no checksum, like restic's encoder).
 * @throws RusticError `Unsupported`/`CompressionUnavailable` if no provider that compresses loads here.
 */
export function compress(data: Uint8Array, level: number): Uint8Array {
  throwIfNoCompressor(level)
  try {
    return zstdProvider().compress(data, level)
  } catch (cause) {
    throw compressionFailed(cause)
  }
}

/**
 * {@link compress}'s frame written at offset `before` of a new buffer with `after` bytes of room behind it (for a
 * caller that adds a header and a trailer in place, e.g. seals it), compressed straight into that buffer where the
 * provider in use works on buffers (no copy; the buffer is allocated to zstd's bound, whose pages past the frame are
 * never touched). Returns the buffer, `before + frame length + after` bytes long, and the frame's length.
 * @throws RusticError as {@link compress} does.
 */
export function compressWithRoom(data: Uint8Array, level: number, before: number, after: number): { buf: Uint8Array; length: number } {
  throwIfNoCompressor(level)
  try {
    const z = zstdBuffers()
    if (z === undefined) {
      const frame = zstdProvider().compress(data, level)
      const buf = new Uint8Array(before + frame.length + after)
      buf.set(frame, before)
      return { buf, length: frame.length }
    }
    const bound = z.compressBound(data.length)
    const out = Buffer.allocUnsafeSlow(before + bound + after) // its own ArrayBuffer (see `freeBuffer`)
    const length = z.compressInto(out.subarray(before, before + bound), data, level)
    return { buf: new Uint8Array(out.buffer, 0, before + length + after), length }
  } catch (cause) {
    throw compressionFailed(cause)
  }
}

function throwIfNoCompressor(level: number): void {
  const unavailable = zstdCompressorUnavailable()
  if (unavailable !== undefined) {
    throw new RusticError('Unsupported', `cannot compress at zstd level ${level}: ${unavailable}`, {
      code: 'CompressionUnavailable',
    })
  }
}

function compressionFailed(cause: unknown): RusticError {
  return new RusticError('Internal', `zstd compression failed: ${(cause as Error).message}`, { cause })
}

/**
 * Decompresses zstd data.
 * @param what - names the data for the error message, e.g. `tree blob 1a2b3c4d`.
 * @param expectedLength - the uncompressed length the index promises; a different length is an error.
 * @throws RusticError `Repository`/`DecodeError` naming `what` if the data is no valid zstd or has the wrong length.
 */
export function decompress(data: Uint8Array, what: string, expectedLength?: number): Uint8Array {
  let out: Uint8Array
  try {
    out = zstdProvider().decompress(data, expectedLength)
  } catch (cause) {
    const hint = expectedLength === undefined ? '' : ` (expected ${expectedLength} bytes)`
    throw new RusticError('Repository', `cannot decompress ${what}${hint}: ${(cause as Error).message}`, {
      code: 'DecodeError',
      cause,
    })
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new RusticError(
      'Repository',
      `cannot decompress ${what}: got ${out.length} bytes, expected ${expectedLength}`,
      { code: 'DecodeError' },
    )
  }
  return out
}
