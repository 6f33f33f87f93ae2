/**
 * The scrypt worker program (see `scryptInWorkers`): mixes the lanes it is sent (ROMix, in place in the shared
 * lanes), one at a time, in one scratch memory of `128·N·r` bytes allocated for its first lane and freed when
 * the worker is terminated.
 */
import { romixScratchWords, scryptRomix } from '../crypto/scryptRomix.js'
import type { ScryptReply, ScryptWorkerData, ScryptWorkerIn } from './scrypt.protocol.js'
import { workerPort } from './workerPort.js'

const port = workerPort<ScryptWorkerIn, ScryptReply, ScryptWorkerData>()
const { lanes, N, r } = port.data
let scratch: Int32Array | undefined

port.listen((lane) => {
  scratch ??= new Int32Array(romixScratchWords(N, r))
  scryptRomix(new Uint8Array(lanes, lane * 128 * r, 128 * r), N, r, scratch)
  port.post(lane)
})
