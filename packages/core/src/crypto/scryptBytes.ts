// Node built-ins and dependency-free files only: the CLI also loads this before its program, to start the key derivation early.
import { scrypt } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import type { KdfParams } from './kdf.js'
import { scryptInWorkers } from './scryptInWorkers.js'

/** Most memory a key file may ask scrypt for (128·N·r bytes): a hostile key file gets no more. */
export const KDF_MAX_MEMORY = 2 ** 30
const MAX_RP = 2 ** 20

/** Whether scrypt parameters are usable: N a power of two > 1, r and p ≥ 1, 128·N·r ≤ 1 GiB, r·p ≤ 2^20. */
export function kdfParamsValid({ N, r, p }: KdfParams): boolean {
  const ints = Number.isSafeInteger(N) && Number.isSafeInteger(r) && Number.isSafeInteger(p)
  return ints && N > 1 && (N & (N - 1)) === 0 && r >= 1 && p >= 1 && 128 * N * r <= KDF_MAX_MEMORY && r * p <= MAX_RP
}

/**
 * Lanes at least this large (`N·r`, here 16 MiB of ROMix memory) are worth a worker thread: a smaller one
 * takes less time on one thread than a worker takes to start.
 */
const WORKER_LANE_MIN = 2 ** 17
/**
 * Most ROMix memory the lanes of one derivation may hold at once on worker threads (`threads·2·128·N·r`: each
 * worker mixes two lanes at once; the WebAssembly ROMix keeps half of it).
 */
const WORKER_MEMORY_MAX = 128 << 20

/**
 * The WebAssembly ROMix on the workers keeps every other block of each lane (`romixWasmPair`'s shift 1) and
 * mixes two lanes at once: ~41 ms a lane (one lane alone ~58, OpenSSL ~90) in 2 x 16 MiB for restic's
 * N = 2^15, r = 8, plus the thread (~9 MiB). A pair keeping a quarter of each lane (2 x 8 MiB) takes ~55 ms a
 * lane: on two workers no faster than one lane at a time each, keeping half.
 */
const WORKER_ROMIX_SHIFT = 1

/** Most worker threads one derivation starts (each mixes two lanes at once). */
const WORKER_THREADS_MAX = 2

/**
 * Cores per worker thread: 2, so that a 2-core machine runs one worker (2 x 16 MiB at shift 1) and leaves the
 * other core to the program's loading. 1 with {@link WORKER_ROMIX_SHIFT} 2 gives two workers mixing pairs
 * that keep a quarter each, in the same memory: measured the same CPU and peak RSS as the one-lane workers
 * before, to fall back to if one worker turns out slower in wall time on an idle machine.
 */
const CORES_PER_WORKER = 2

/**
 * Fewest lanes worth a worker on a machine with `cores` cores. On two cores the lanes share them with the
 * rest of the start (the CLI loads its program meanwhile, and a worker takes ~50 ms of CPU to start), while
 * OpenSSL's lanes on one libuv thread hide behind that loading: measured (`cat config`, N = 2^15, r = 8), two
 * workers lost at p = 2, tied at p = 3 and won from p = 4; one worker mixing pairs saves no CPU at p = 2-3
 * (0.39 vs 0.40 s, 0.465 vs 0.475) for ~11 MiB more peak memory. With more cores they have a core each.
 */
function workerLanesMin(cores: number): number {
  return cores <= 2 ? 4 : 2
}

/**
 * How many worker threads mix the `p` lanes of `params`, two at once each: one per {@link CORES_PER_WORKER}
 * cores (at least one), one per pair of lanes, {@link WORKER_THREADS_MAX}, and {@link WORKER_MEMORY_MAX} of
 * memory; 0 (OpenSSL on one thread) on one core, for lanes under {@link WORKER_LANE_MIN}, or for fewer lanes
 * than {@link workerLanesMin}. On two cores that is one worker: p = 7 is three pairs and a lane (~6 x 40 + 58
 * ms of one thread), where two workers mixing one lane at a time took 7 x ~58 ms on both cores plus a second
 * thread's start (~50 ms of CPU, ~9 MiB), beside the program's loading on the same two cores.
 */
export function scryptThreads({ N, r, p }: KdfParams, cores: number = availableParallelism()): number {
  if (N * r < WORKER_LANE_MIN || cores < 2 || p < workerLanesMin(cores)) return 0
  return Math.min(Math.ceil(p / 2), Math.max(1, Math.floor(cores / CORES_PER_WORKER)), WORKER_THREADS_MAX, Math.floor(WORKER_MEMORY_MAX / (256 * N * r)))
}

/** Options of {@link scryptBytes}. */
export interface ScryptOptions {
  /**
   * Derive a key of one large lane (p = 1, e.g. rustic-ts's own keys: N = 2^15, r = 8) on a worker thread with
   * the WebAssembly ROMix keeping a quarter of its memory (~8 MiB + the thread's ~9 MiB while it runs, instead
   * of OpenSSL's 32 MiB), for ~50 ms more CPU to start the worker. For a caller whose derivation runs beside
   * other work, so that the worker's start is hidden (the CLI's early derivation while its program loads,
   * where OpenSSL's 32 MiB and the loaded program made the peak RSS of short commands). Default false.
   */
  lessMemory?: boolean
  /**
   * When an odd number (3 or more) of large lanes go to worker threads, mix the last one on the calling thread at
   * its next turn (WebAssembly ROMix keeping a quarter of the lane: ~80 ms and 8 MiB for N = 2^15, r = 8, during
   * which that thread runs nothing else), so that the workers mix pairs only. For a caller whose thread would
   * otherwise wait for the key (the CLI's early derivation, while its program loads). Default false.
   */
  mainThreadLane?: boolean
  /**
   * When the lanes were mixed on worker threads, one of them is handed to this once they are done (before the
   * promise resolves) instead of being ended: an idle thread of the reusable scrypt program, on which a
   * `WorkerPool` can run another worker program (`WorkerPoolOptions.threads`, e.g. `check`'s `idleThreads`),
   * saving that program a thread's start (~35 ms of CPU). The receiver ends it. Not called when OpenSSL
   * derived the key. For a caller that starts a worker next (the CLI's `check`).
   */
  keepThread?: (thread: Worker) => void
}

/** The ROMix shift of a one-lane derivation on a worker ({@link ScryptOptions.lessMemory}): a quarter of V, ~80-97 ms a lane, as fast as OpenSSL. */
const ONE_LANE_ROMIX_SHIFT = 2

/** Whether `params` are one lane large enough for {@link ScryptOptions.lessMemory} to take it to a worker. */
function oneLaneOnWorker({ N, r, p }: KdfParams): boolean {
  return p === 1 && N * r >= WORKER_LANE_MIN
}

/**
 * The 64 bytes of `scrypt(password, salt, N, r, p)`. With several large lanes (restic calibrates p to fill
 * ~0.5 s, e.g. p = 6 on a 2-core machine) they are mixed on worker threads at once ({@link scryptInWorkers},
 * {@link scryptThreads}); else, or if that fails, by `node:crypto` (OpenSSL, one thread of libuv's pool, lane
 * after lane; faster for one lane), with `maxmem` raised to what the parameters need. The password's bytes
 * are taken at the call: the caller may clear them once it has returned its promise.
 */
export async function scryptBytes(password: Uint8Array, salt: Uint8Array, params: KdfParams, options: ScryptOptions = {}): Promise<Buffer> {
  const oneLane = options.lessMemory === true && oneLaneOnWorker(params)
  const threads = oneLane ? 1 : scryptThreads(params)
  if (threads === 0) return opensslScrypt(password, salt, params)
  // a copy, for OpenSSL after a failure of the workers (the caller's bytes may be cleared by then)
  const pw = Buffer.from(password)
  try {
    const shift = oneLane ? ONE_LANE_ROMIX_SHIFT : WORKER_ROMIX_SHIFT
    return await scryptInWorkers(pw, salt, params, {
      threads,
      shift,
      mainLane: options.mainThreadLane === true,
      ...(options.keepThread ? { keepThread: options.keepThread } : {}),
    })
  } catch {
    // no worker program next to this code, or a worker failed: OpenSSL gives the same bytes
    return await opensslScrypt(pw, salt, params)
  } finally {
    pw.fill(0)
  }
}

/** The 64 bytes of `scrypt(password, salt, N, r, p)` from `node:crypto` (on libuv's pool), with `maxmem` raised to what the parameters need. */
function opensslScrypt(password: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Buffer> {
  const maxmem = Math.max(32 << 20, 256 * params.N * params.r + (16 << 20))
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 64, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}
