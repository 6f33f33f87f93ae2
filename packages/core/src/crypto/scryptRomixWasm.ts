// Node built-ins and dependency-free files only: loaded by the scrypt worker program.
import { readFileSync } from 'node:fs'
import { builtFileUrl } from '../workers/workerUrl.js'

/** Where scrypt's word `i` of each 64-byte block sits in the WebAssembly ROMix's diagonal order (see romix.wat). */
const DIAGONAL = Array.from({ length: 16 }, (_, i) => (5 * i) % 16)
const PAGE = 65536

/** The part of the WebAssembly JavaScript API used here (the project's TypeScript libraries do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer }
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}

/** WebAssembly, if this Node has it (`--jitless` has none). */
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly

let compiled: object | null | undefined

/** The compiled ROMix module (`romix.wasm`, built from `romix.wat`), or null where it cannot load (no file, no WebAssembly SIMD). */
function romixModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasmApi === undefined ? null : new wasmApi.Module(readFileSync(builtFileUrl('romix.wasm')))
    } catch {
      compiled = null
    }
  }
  return compiled
}

/** The module's ROMix functions: `romix` (one lane) and `romix2` (two), with `N`, `r` and the shift. */
type RomixExport = (N: number, r: number, shift: number) => void

/** ROMix of one lane in place (see {@link romixWasm}). */
export type LaneMixer = (block: Uint8Array) => void

/** ROMix of two lanes in place at once, or of one if `b` is not given (see {@link romixWasmPair}). */
export type LanePairMixer = (a: Uint8Array, b?: Uint8Array) => void

/** A memory of `bytes` for ROMix's lanes and the module's functions on it; undefined where it cannot be made. */
function instantiate(bytes: number): { memory: { readonly buffer: ArrayBuffer }; exports: Record<string, unknown> } | undefined {
  const module = romixModule()
  if (module === null || wasmApi === undefined) return undefined
  try {
    const memory = new wasmApi.Memory({ initial: Math.ceil(bytes / PAGE) })
    return { memory, exports: new wasmApi.Instance(module, { env: { memory } }).exports }
  } catch {
    return undefined
  }
}

/** Copies a lane into the memory at `at`, each 64-byte block's words in the diagonal order of romix.wat. */
function laneIn(block: Uint8Array, buffer: ArrayBuffer, at: number): void {
  const x = new Uint8Array(buffer, at, block.length)
  for (let b = 0; b < block.length; b += 64) {
    for (let i = 0; i < 16; i++) x.set(block.subarray(b + 4 * DIAGONAL[i]!, b + 4 * DIAGONAL[i]! + 4), b + 4 * i)
  }
}

/** Copies a lane back from the memory at `at` into scrypt's order, and clears it there. */
function laneOut(block: Uint8Array, buffer: ArrayBuffer, at: number): void {
  const x = new Uint8Array(buffer, at, block.length)
  for (let b = 0; b < block.length; b += 64) {
    for (let i = 0; i < 16; i++) block.set(x.subarray(b + 4 * i, b + 4 * i + 4), b + 4 * DIAGONAL[i]!)
  }
  x.fill(0)
}

/** Throws unless `block` is a lane of `laneBytes` bytes. */
function checkLane(block: Uint8Array, laneBytes: number): void {
  if (block.length !== laneBytes) throw new RangeError(`a scrypt lane has ${laneBytes} bytes, not ${block.length}`)
}

/**
 * scrypt's ROMix(N, r) with WebAssembly SIMD (`romix.wat`): a function that replaces a lane (`128·r` bytes)
 * by its ROMix, in a memory of its own of `(N/2^shift + 4)·128·r` bytes: with `shift` 1 or 2 only every
 * second or fourth block of ROMix's `V` is kept and the others are computed again when needed (measured
 * here, N = 2^15, r = 8: ~65 ms a lane with all of them or half, ~80 ms with a quarter; OpenSSL ~90 ms).
 * The memory is kept while the function is (freed when it is dropped or its thread ends). `undefined` where
 * the module cannot load (then `scryptRomix`, in TypeScript, does the same). Bit-identical to RFC 7914.
 */
export function romixWasm(N: number, r: number, shift: 0 | 1 | 2 = 0): LaneMixer | undefined {
  const laneBytes = 128 * r
  const made = instantiate((Math.ceil(N / 2 ** shift) + 4) * laneBytes)
  if (made === undefined) return undefined
  const { memory } = made
  const romix = made.exports['romix'] as RomixExport
  return (block) => {
    checkLane(block, laneBytes)
    laneIn(block, memory.buffer, 0)
    romix(N, r, shift)
    laneOut(block, memory.buffer, 0)
  }
}

/**
 * Like {@link romixWasm}, for two lanes at once: their ROMix advance in lockstep in one function, their
 * instructions interleaved (Salsa20/8 is one chain of dependent operations, so one lane leaves most of the
 * core's SIMD units idle), in a memory of `2·(N/2^shift + 4)·128·r` bytes (measured here, N = 2^15, r = 8,
 * CPU ms a lane: all of V kept ~31 against ~50 for one lane alone, half ~41 against ~58, a quarter ~55
 * against ~77). Without a
 * second lane it mixes one, as {@link romixWasm} does, in the same memory. Bit-identical to RFC 7914.
 * `undefined` where the module cannot load.
 */
export function romixWasmPair(N: number, r: number, shift: 0 | 1 | 2 = 0): LanePairMixer | undefined {
  const laneBytes = 128 * r
  const stride = (Math.ceil(N / 2 ** shift) + 4) * laneBytes
  const made = instantiate(2 * stride)
  if (made === undefined) return undefined
  const { memory } = made
  const romix = made.exports['romix'] as RomixExport
  const romix2 = made.exports['romix2'] as RomixExport
  return (a, b) => {
    checkLane(a, laneBytes)
    laneIn(a, memory.buffer, 0)
    if (b === undefined) {
      romix(N, r, shift)
    } else {
      checkLane(b, laneBytes)
      laneIn(b, memory.buffer, stride)
      romix2(N, r, shift)
      laneOut(b, memory.buffer, stride)
    }
    laneOut(a, memory.buffer, 0)
  }
}
