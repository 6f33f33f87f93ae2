/** The `workerData` of a scrypt worker: the lanes (`p` blocks of `128·r` bytes, shared with the caller) and ROMix's `N` and `r`. */
export interface ScryptWorkerData {
  lanes: SharedArrayBuffer
  N: number
  r: number
}

/** To a scrypt worker: the index of a lane to replace by its ROMix (in the shared lanes). */
export type ScryptWorkerIn = number

/** From a scrypt worker: the index of the lane it has mixed. */
export type ScryptReply = number
