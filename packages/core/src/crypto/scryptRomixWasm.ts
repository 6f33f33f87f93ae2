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

/** ROMix of one lane in place (see {@link romixWasm}). */
export type LaneMixer = (block: Uint8Array) => void

/**
 * scrypt's ROMix(N, r) with WebAssembly SIMD (`romix.wat`): a function that replaces a lane (`128·r` bytes)
 * by its ROMix, in a memory of its own of `(N/2^shift + 4)·128·r` bytes: with `shift` 1 or 2 only every
 * second or fourth block of ROMix's `V` is kept and the others are computed again when needed (measured
 * here, N = 2^15, r = 8: ~65 ms a lane with all of them or half, ~80 ms with a quarter; OpenSSL ~90 ms).
 * The memory is kept while the function is (freed when it is dropped or its thread ends). `undefined` where
 * the module cannot load (then `scryptRomix`, in TypeScript, does the same). Bit-identical to RFC 7914.
 */
export function romixWasm(N: number, r: number, shift: 0 | 1 | 2 = 0): LaneMixer | undefined {
  const module = romixModule()
  if (module === null || wasmApi === undefined) return undefined
  const laneBytes = 128 * r
  let memory: { readonly buffer: ArrayBuffer }
  let romix: (N: number, r: number, shift: number) => void
  try {
    memory = new wasmApi.Memory({ initial: Math.ceil(((Math.ceil(N / 2 ** shift) + 4) * laneBytes) / PAGE) })
    romix = new wasmApi.Instance(module, { env: { memory } }).exports['romix'] as (N: number, r: number, shift: number) => void
  } catch {
    return undefined
  }
  return (block) => {
    if (block.length !== laneBytes) throw new RangeError(`a scrypt lane has ${laneBytes} bytes, not ${block.length}`)
    const x = new Uint8Array(memory.buffer, 0, laneBytes)
    for (let b = 0; b < laneBytes; b += 64) {
      for (let i = 0; i < 16; i++) x.set(block.subarray(b + 4 * DIAGONAL[i]!, b + 4 * DIAGONAL[i]! + 4), b + 4 * i)
    }
    romix(N, r, shift)
    for (let b = 0; b < laneBytes; b += 64) {
      for (let i = 0; i < 16; i++) block.set(x.subarray(b + 4 * i, b + 4 * i + 4), b + 4 * DIAGONAL[i]!)
    }
    x.fill(0)
  }
}
