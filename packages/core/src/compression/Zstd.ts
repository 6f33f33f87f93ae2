import { createRequire } from 'node:module'
import { RusticError } from '../error/RusticError.js'

/**
 * A zstd implementation. rustic-ts uses the native `zstd-napi` where it loads and the pure-JS
 * {@link pureJsZstd} otherwise. Errors thrown here are plain; {@link compress}/{@link decompress}
 * wrap them.
 */
export interface ZstdProvider {
  /** A short name, e.g. `zstd-napi` or `fzstd`. */
  readonly name: string
  /** One zstd frame of `data` at `level`, without checksum. */
  compress(data: Uint8Array, level: number): Uint8Array
  /** The content of the zstd frame(s) in `data`; with `expectedLength`, never produces more than that. */
  decompress(data: Uint8Array, expectedLength?: number): Uint8Array
}

type ZstdBinding = typeof import('zstd-napi/binding.js')
type ZstdNapi = typeof import('zstd-napi')

/**
 * zstd-napi's compressor and decompressor working in the caller's buffers (no copies), for code that
 * reuses its buffers (the worker threads). One per thread.
 */
export interface ZstdBuffers {
  /** The most bytes compressing `length` bytes can give. */
  compressBound(length: number): number
  /** Compresses `data` into `out` (room for `compressBound(data.length)`), one frame at `level`; returns its length. */
  compressInto(out: Uint8Array, data: Uint8Array, level: number): number
  /** Decompresses the frame(s) in `data` into `out`, never more than `out.length` bytes; returns the length. */
  decompressInto(out: Uint8Array, data: Uint8Array): number
  /**
   * Streaming decompression (one stream at a time per thread; `ZSTD_decompressStream`): decompresses what
   * it can of `data` into `out` and returns `[hint, produced, consumed]`, `hint` 0 once a frame is decoded
   * and all of it given out. Call again with the rest of `data` (or none) while `out` comes back full.
   */
  decompressStream(out: Uint8Array, data: Uint8Array): [hint: number, produced: number, consumed: number]
  /** Starts a new stream for {@link ZstdBuffers.decompressStream}, dropping a frame left unfinished. */
  resetStream(): void
}

let nativeBuffers: ZstdBuffers | null | undefined

/** The native zstd of `zstd-napi` on the caller's buffers, or `undefined` if it cannot be loaded here. */
export function nativeZstdBuffers(): ZstdBuffers | undefined {
  if (nativeBuffers === undefined) {
    try {
      const binding = createRequire(import.meta.url)('zstd-napi/binding.js') as ZstdBinding
      const cctx = new binding.CCtx()
      const dctx = new binding.DCtx()
      let sctx: InstanceType<ZstdBinding['DCtx']> | undefined
      nativeBuffers = {
        compressBound: (length) => binding.compressBound(length),
        compressInto: (out, data, level) => cctx.compress(out, data, level),
        decompressInto: (out, data) => dctx.decompress(out, data),
        decompressStream: (out, data) => (sctx ??= new binding.DCtx()).decompressStream(out, data),
        resetStream: () => sctx?.reset(binding.ResetDirective.sessionOnly),
      }
    } catch {
      nativeBuffers = null
    }
  }
  return nativeBuffers ?? undefined
}

let nativeProvider: ZstdProvider | null | undefined

/** The native zstd of `zstd-napi` (libzstd 1.5.x), or `undefined` if it cannot be loaded here. */
export function nativeZstd(): ZstdProvider | undefined {
  if (nativeProvider === undefined) {
    try {
      const buffers = nativeZstdBuffers()
      if (buffers === undefined) throw new Error('zstd-napi cannot be loaded')
      const napi = createRequire(import.meta.url)('zstd-napi') as ZstdNapi
      const decompressor = new napi.Decompressor()
      let scratch = Buffer.alloc(0)
      nativeProvider = {
        name: 'zstd-napi',
        compress(data, level) {
          const bound = buffers.compressBound(data.length)
          if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, 64 * 1024))
          const n = buffers.compressInto(scratch, data, level)
          return Uint8Array.prototype.slice.call(scratch, 0, n)
        },
        decompress(data, expectedLength) {
          if (expectedLength === undefined) return new Uint8Array(decompressor.decompress(data))
          // Single pass into a buffer of the expected size: a frame claiming more fails instead of allocating.
          const out = new Uint8Array(expectedLength)
          const n = buffers.decompressInto(out, data)
          return n === expectedLength ? out : out.subarray(0, n)
        },
      }
    } catch {
      nativeProvider = null
    }
  }
  return nativeProvider ?? undefined
}

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd]
const RAW_BLOCK_MAX = 128 * 1024

/**
 * A valid zstd frame that stores `data` in raw (uncompressed) blocks: what the pure-JS fallback
 * writes, since no pure-JS zstd encoder is available. Any zstd decoder reads it.
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

/** Pure-JS zstd: decodes with `fzstd`; "compresses" into stored frames ({@link zstdStoredFrame}). */
export const pureJsZstd: ZstdProvider = {
  name: 'fzstd',
  compress: (data) => zstdStoredFrame(data),
  // fzstd returns the whole buffer it is given, whatever it wrote: let it size the output itself.
  decompress: (data) => fzstd().decompress(data),
}

let fzstdModule: typeof import('fzstd') | undefined

/** `fzstd`, loaded on first use: it is only a fallback, so start-up does not pay for it. */
function fzstd(): typeof import('fzstd') {
  fzstdModule ??= createRequire(import.meta.url)('fzstd') as typeof import('fzstd')
  return fzstdModule
}

let current: ZstdProvider | undefined

/** The zstd provider in use: `zstd-napi` if it loads, else {@link pureJsZstd}. */
export function zstdProvider(): ZstdProvider {
  current ??= nativeZstd() ?? pureJsZstd
  return current
}

/** Chooses the zstd provider (e.g. {@link pureJsZstd} to avoid native code). */
export function setZstdProvider(provider: ZstdProvider): void {
  current = provider
}

/** Compresses `data` into one zstd frame at `level` (no checksum, like restic's encoder). */
export function compress(data: Uint8Array, level: number): Uint8Array {
  try {
    return zstdProvider().compress(data, level)
  } catch (cause) {
    throw new RusticError('Internal', `zstd compression failed: ${(cause as Error).message}`, { cause })
  }
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
