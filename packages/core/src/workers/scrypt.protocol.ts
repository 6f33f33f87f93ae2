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

/** To a scrypt worker: the index of a lane to replace by its ROMix (in the shared lanes). */
export type ScryptWorkerIn = number

/** From a scrypt worker: the index of the lane it has mixed. */
export type ScryptReply = number
