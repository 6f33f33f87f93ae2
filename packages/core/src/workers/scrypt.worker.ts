/**
 * The scrypt worker program (see `scryptInWorkers`): mixes the lanes it is sent (ROMix, in place in the shared
 * lanes), one at a time, in one memory allocated for its first lane and freed when the worker is terminated:
 * with WebAssembly SIMD (`romixWasm`, keeping 1/2^shift of ROMix's `128·N·r` bytes), else in TypeScript
 * (`scryptRomix`, all of them).
 */
import { romixScratchWords, scryptRomix } from '../crypto/scryptRomix.js'
import { romixWasm, type LaneMixer } from '../crypto/scryptRomixWasm.js'
import type { ScryptReply, ScryptWorkerData, ScryptWorkerIn } from './scrypt.protocol.js'
import { workerPort } from './workerPort.js'

const port = workerPort<ScryptWorkerIn, ScryptReply, ScryptWorkerData>()
const { lanes, N, r, shift } = port.data
let mix: LaneMixer | undefined

/** The WebAssembly ROMix, else the TypeScript one (with one scratch memory for all lanes). */
function mixer(): LaneMixer {
  const wasm = romixWasm(N, r, shift)
  if (wasm !== undefined) return wasm
  const scratch = new Int32Array(romixScratchWords(N, r))
  return (block) => scryptRomix(block, N, r, scratch)
}

port.listen(({ id, lane }) => {
  mix ??= mixer()
  mix(new Uint8Array(lanes, lane * 128 * r, 128 * r))
  port.post(id)
})
