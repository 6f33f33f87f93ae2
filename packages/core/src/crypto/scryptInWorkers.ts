// Node built-ins and dependency-free files only: the CLI also loads this before its program (see scryptBytes).
import { pbkdf2Sync } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import type { ScryptReply, ScryptWorkerData } from '../workers/scrypt.protocol.js'
import { workerUrl } from '../workers/workerUrl.js'
import type { KdfParams } from './kdf.js'

/**
 * The 64 bytes of `scrypt(password, salt, N, r, p)` with its `p` lanes mixed on `threads` worker threads at once
 * (scrypt worker program, `scryptRomix`): B = PBKDF2-HMAC-SHA256(password, salt, 1, p·128·r), each lane
 * of B replaced by its ROMix(N, r) on whichever worker is free, then PBKDF2-HMAC-SHA256(password, B, 1, 64).
 * Each worker holds `128·N·r / 2^shift` bytes (see `romixWasm`; all of them if it falls back to the TypeScript
 * ROMix) while it runs; all are terminated when the lanes are done or one fails.
 * Rejects if a worker cannot start, fails or exits early (the caller then derives another way); it never
 * gives bytes from a lane that was not mixed. The password is copied at once (the caller may clear its own
 * bytes meanwhile, as `node:crypto`'s scrypt allows). `url` is the worker program (tests give another).
 */
export function scryptInWorkers(
  password: Uint8Array,
  salt: Uint8Array,
  params: KdfParams,
  threads: number,
  shift: 0 | 1 | 2 = 0,
  url: URL = workerUrl('scrypt'),
): Promise<Buffer> {
  const { N, r, p } = params
  const pw = Buffer.from(password)
  const laneBytes = 128 * r
  const shared = new SharedArrayBuffer(p * laneBytes)
  const lanes = new Uint8Array(shared)
  const b = pbkdf2Sync(pw, salt, 1, p * laneBytes, 'sha256')
  lanes.set(b)
  b.fill(0)
  const workers: Worker[] = []
  return new Promise<Buffer>((resolve, reject) => {
    let next = 0
    let done = 0
    let settled = false
    const finish = (error: Error | undefined): void => {
      if (settled) return
      settled = true
      for (const w of workers) void w.terminate()
      const out = error === undefined ? pbkdf2Sync(pw, lanes, 1, 64, 'sha256') : undefined
      lanes.fill(0)
      pw.fill(0)
      if (out === undefined) reject(error)
      else resolve(out)
    }
    const data: ScryptWorkerData = { lanes: shared, N, r, shift }
    try {
      for (let i = 0; i < Math.min(threads, p); i++) {
        const worker = new Worker(url, { workerData: data })
        workers.push(worker)
        let current = next++
        worker.postMessage(current)
        worker.on('message', (lane: ScryptReply) => {
          if (lane !== current) return finish(new Error(`scrypt worker answered lane ${lane}, not ${current}`))
          done++
          if (done === p) return finish(undefined)
          if (next < p) worker.postMessage((current = next++))
          else current = -1
        })
        worker.on('error', (err) => finish(err))
        worker.on('messageerror', (err) => finish(err))
        worker.on('exit', (code) => finish(new Error(`scrypt worker exited (code ${code}) before its lanes were done`)))
      }
    } catch (err) {
      finish(err instanceof Error ? err : new Error(String(err)))
    }
  })
}
