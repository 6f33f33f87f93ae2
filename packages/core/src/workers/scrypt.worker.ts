/**
 * The scrypt worker program (see `scryptInWorkers`): mixes the lanes it is sent (ROMix, in place in the shared
 * lanes), two at once or one, in one memory allocated for its first job and freed when the worker is
 * terminated: with WebAssembly SIMD (`romixWasmPair` for a pair, keeping 1/2^shift of ROMix's `128·N·r` bytes
 * of each lane, whose memory then serves single lanes too; `romixWasm` if the first job is one lane), else in
 * TypeScript (`scryptRomix`, all of them, one lane after the other).
 */
import { romixScratchWords, scryptRomix } from '../crypto/scryptRomix.js'
import { romixWasm, romixWasmPair, type LanePairMixer } from '../crypto/scryptRomixWasm.js'
import type { ScryptReply, ScryptWorkerData, ScryptWorkerIn } from './scrypt.protocol.js'
import { workerPort } from './workerPort.js'

const port = workerPort<ScryptWorkerIn, ScryptReply, ScryptWorkerData>()
const { lanes, N, r, shift } = port.data
let mix: LanePairMixer | undefined
let pairs = false

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
})
