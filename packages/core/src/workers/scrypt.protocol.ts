/**
 * The `workerData` of a scrypt worker: the lanes (`p` blocks of `128·r` bytes, shared with the caller), ROMix's
 * `N` and `r`, and `shift`: the WebAssembly ROMix keeps 1/2^shift of its blocks (see `romixWasm`).
 */
export interface ScryptWorkerData {
  lanes: SharedArrayBuffer
  N: number
  r: number
  shift: 0 | 1 | 2
}

/**
 * To a scrypt worker: job `id`, the lane (its index in the shared lanes) to replace by its ROMix, and with
 * `pair`, a second lane to mix at once (the WebAssembly ROMix interleaves two lanes, see `romixWasmPair`).
 */
export interface ScryptWorkerIn {
  id: number
  lane: number
  pair?: number
}

/** From a scrypt worker: the id of the job it has done. */
export type ScryptReply = number
