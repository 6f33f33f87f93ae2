// Node built-ins and dependency-free files only: the CLI also loads this before its program, to start the key derivation early.
import { scrypt } from 'node:crypto'
import { availableParallelism } from 'node:os'
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
 * Most ROMix memory the lanes of one derivation may hold at once on worker threads (`threads·128·N·r`, what the
 * TypeScript ROMix holds; the WebAssembly one keeps half of it).
 */
const WORKER_MEMORY_MAX = 128 << 20

/**
 * The WebAssembly ROMix on the workers keeps every other block (`romixWasm`'s shift 1): ~65 ms a lane (OpenSSL
 * ~90), as fast as keeping all of them, in half the memory: two workers hold 2 x 16 MiB for restic's
 * N = 2^15, r = 8, plus their threads (~9 MiB each). Shift 2 (a quarter) is ~80 ms a lane for ~16 MiB less
 * peak memory; measured on an idle 2-core machine, a quarter gained about two thirds of what half gains.
 */
const WORKER_ROMIX_SHIFT = 1

/** Most worker threads one derivation starts. */
const WORKER_THREADS_MAX = 4

/**
 * Fewest lanes worth the workers on a machine with `cores` cores. On two cores the lanes share them with the
 * rest of the start (the CLI loads its program meanwhile, and each worker takes ~50 ms of CPU to start), while
 * OpenSSL's lanes on one libuv thread hide behind that loading: measured on an idle 2-core machine (`cat config`,
 * N = 2^15, r = 8), the workers lost at p = 2 (0.51 s vs 0.48), tied at p = 3 and won from p = 4 (0.55 vs 0.62 s;
 * p = 7: 0.66 vs 0.84). With more cores they have a core each.
 */
function workerLanesMin(cores: number): number {
  return cores <= 2 ? 4 : 2
}

/**
 * How many worker threads mix the `p` lanes of `params` at once: up to one per core, one per lane, 4, and
 * {@link WORKER_MEMORY_MAX} of memory; 0 (OpenSSL on one thread) below 2, for lanes under {@link WORKER_LANE_MIN},
 * or for fewer lanes than {@link workerLanesMin}.
 */
export function scryptThreads({ N, r, p }: KdfParams, cores: number = availableParallelism()): number {
  if (N * r < WORKER_LANE_MIN || p < workerLanesMin(cores)) return 0
  const threads = Math.min(p, cores, WORKER_THREADS_MAX, Math.floor(WORKER_MEMORY_MAX / (128 * N * r)))
  return threads >= 2 ? threads : 0
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
    return await scryptInWorkers(pw, salt, params, threads, oneLane ? ONE_LANE_ROMIX_SHIFT : WORKER_ROMIX_SHIFT)
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
