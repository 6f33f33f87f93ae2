/**
 * The scrypt worker program (see `scryptInWorkers`): mixes the lanes it is sent (ROMix, in place in the shared
 * lanes), two at once or one, in one memory allocated for its first job and freed when the worker is
 * terminated: with WebAssembly SIMD (`romixWasmPair` for a pair, keeping 1/2^shift of ROMix's `128·N·r` bytes
 * of each lane, whose memory then serves single lanes too; `romixWasm` if the first job is one lane), else in
 * TypeScript (`scryptRomix`, all of them, one lane after the other). Reusable (see `WorkerPort.listen`): once the
 * lanes are mixed, its idle thread can run another worker program (`WorkerPoolOptions.threads`), which saves
 * that program a thread's start; the ROMix memory is dropped and collected then.
 */
import { romixScratchWords, scryptRomix } from '../crypto/scryptRomix.js'
import { romixWasm, romixWasmPair, type LanePairMixer } from '../crypto/scryptRomixWasm.js'
import type { ScryptReply, ScryptWorkerData, ScryptWorkerIn } from './scrypt.protocol.js'
import { freeBuffer } from './freeBuffer.js'
import { workerPort } from './workerPort.js'

const port = workerPort<ScryptWorkerIn, ScryptReply, ScryptWorkerData>()
const { lanes, N, r, shift } = port.data
let mix: LanePairMixer | undefined
let pairs = false
/** External memory that makes V8 collect (see collectSoon): 4 x its 64 MiB soft limit. */
const PRESSURE = 256 << 20

/** The WebAssembly ROMix (for pairs, or for one lane), else the TypeScript one (with one scratch memory for all lanes). */
function mixer(pair: boolean): LanePairMixer {
  if (pair) {
    const wasm = romixWasmPair(N, r, shift)
    if (wasm !== undefined) return wasm
  } else {
    const wasm = romixWasm(N, r, shift)
    if (wasm !== undefined) return (a, b) => (b === undefined ? wasm(a) : (wasm(a), wasm(b)))
  }
  const scratch = new Int32Array(romixScratchWords(N, r))
  return (a, b) => {
    scryptRomix(a, N, r, scratch)
    if (b !== undefined) scryptRomix(b, N, r, scratch)
  }
}

const laneAt = (lane: number): Uint8Array => new Uint8Array(lanes, lane * 128 * r, 128 * r)

port.listen(({ id, lane, pair }) => {
  // a pair after single lanes (not sent by scryptInWorkers, which gives the pairs first) gets the pair's memory
  if (mix === undefined || (pair !== undefined && !pairs)) {
    pairs = pair !== undefined
    mix = mixer(pairs)
  }
  mix(laneAt(lane), pair === undefined ? undefined : laneAt(pair))
  port.post(id)
}, () => {
  // the ROMix memory (2 x 16 MiB for restic's keys) goes now, not at some later collection of the next program
  mix = undefined
  collectSoon()
})

/**
 * Makes V8 collect this thread's garbage now, without `gc()` (not exposed to workers): an `ArrayBuffer` of
 * {@link PRESSURE} bytes is more external memory than V8 lets pile up since its last full collection, so it
 * starts one; the buffer is freed at once, and never written (zero pages from the allocator) it takes no RAM.
 * Measured: the 32 MiB of a pair's memory go within milliseconds, instead of staying until the next program has
 * allocated enough to collect (peak RSS). Where so large an allocation fails, they go at that later collection.
 */
function collectSoon(): void {
  try {
    freeBuffer(new Uint8Array(new ArrayBuffer(PRESSURE)))
  } catch {
    // (no room for it in the address space: nothing else to do)
  }
}
