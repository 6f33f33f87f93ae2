import type { BigIntStats } from 'node:fs'
import { constants } from 'node:fs'
import { Worker } from 'node:worker_threads'

const FIELDS = 14

/** The worker: `lstat`s batches of paths synchronously and answers with one array of numbers. */
const WORKER_SOURCE = `'use strict'
const { parentPort } = require('node:worker_threads')
const fs = require('node:fs')
parentPort.on('message', ({ id, paths }) => {
  const out = new BigInt64Array(paths.length * ${FIELDS})
  const errors = []
  paths.forEach((p, i) => {
    try {
      const s = fs.lstatSync(Buffer.from(p.buffer, p.byteOffset, p.length), { bigint: true })
      out.set([s.dev, s.ino, s.mode, s.nlink, s.uid, s.gid, s.rdev, s.size, s.blksize, s.blocks, s.atimeNs, s.mtimeNs, s.ctimeNs, s.birthtimeNs], i * ${FIELDS})
    } catch (e) {
      errors.push([i, String((e && e.code) || ''), String((e && e.message) || e)])
    }
  })
  parentPort.postMessage({ id, out, errors }, [out.buffer])
})
`

/** `lstat` results from the worker, with the parts of `BigIntStats` the walk and `nodeFromStats` use. */
class PackedStats {
  dev: bigint
  ino: bigint
  mode: bigint
  nlink: bigint
  uid: bigint
  gid: bigint
  rdev: bigint
  size: bigint
  blksize: bigint
  blocks: bigint
  atimeNs: bigint
  mtimeNs: bigint
  ctimeNs: bigint
  birthtimeNs: bigint

  constructor(a: BigInt64Array, o: number) {
    ;[this.dev, this.ino, this.mode, this.nlink, this.uid, this.gid, this.rdev, this.size, this.blksize, this.blocks, this.atimeNs, this.mtimeNs, this.ctimeNs, this.birthtimeNs] =
      Array.from(a.subarray(o, o + FIELDS))
  }

  private is(type: number): boolean {
    return (Number(this.mode) & constants.S_IFMT) === type
  }
  isFile(): boolean {
    return this.is(constants.S_IFREG)
  }
  isDirectory(): boolean {
    return this.is(constants.S_IFDIR)
  }
  isSymbolicLink(): boolean {
    return this.is(constants.S_IFLNK)
  }
  isSocket(): boolean {
    return this.is(constants.S_IFSOCK)
  }
  isFIFO(): boolean {
    return this.is(constants.S_IFIFO)
  }
  isCharacterDevice(): boolean {
    return this.is(constants.S_IFCHR)
  }
  isBlockDevice(): boolean {
    return this.is(constants.S_IFBLK)
  }
}

interface Pending {
  path: Uint8Array
  resolve: (s: BigIntStats) => void
  reject: (e: unknown) => void
}

const BATCH = 256

/**
 * `lstat` (with bigint times) on a worker thread in batches: the walk of a large tree asks for one stat
 * per entry, and on the main thread each costs far more than the system call. Requests made in the same
 * turn of the event loop go to the worker together. {@link StatWorker.close} ends the worker.
 */
export class StatWorker {
  private readonly worker: Worker
  private readonly jobs = new Map<number, Pending[]>()
  private batch: Pending[] = []
  private seq = 0
  private scheduled = false
  private failed: Error | undefined

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true })
    this.worker.unref()
    this.worker.on('message', (m: { id: number; out: BigInt64Array; errors: Array<[number, string, string]> }) => this.done(m))
    this.worker.on('error', (e) => this.fail(e))
    this.worker.on('exit', (code) => this.fail(new Error(`stat worker exited with code ${code}`)))
  }

  /** `lstat(path, { bigint: true })`; rejects like `fs.lstat` (an `Error` with the `code`). */
  lstat(path: Uint8Array): Promise<BigIntStats> {
    if (this.failed) return Promise.reject(this.failed)
    return new Promise<BigIntStats>((resolve, reject) => {
      this.batch.push({ path, resolve, reject })
      if (this.batch.length >= BATCH) this.flush()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  /** Ends the worker; pending requests fail. */
  async close(): Promise<void> {
    this.fail(new Error('the stat worker is closed'))
    await this.worker.terminate()
  }

  private flush(): void {
    this.scheduled = false
    if (this.batch.length === 0 || this.failed) return
    const items = this.batch
    this.batch = []
    const id = this.seq++
    this.jobs.set(id, items)
    if (this.jobs.size === 1) this.worker.ref()
    this.worker.postMessage({ id, paths: items.map((i) => i.path) })
  }

  private done(m: { id: number; out: BigInt64Array; errors: Array<[number, string, string]> }): void {
    const items = this.jobs.get(m.id)
    if (!items) return
    this.jobs.delete(m.id)
    if (this.jobs.size === 0) this.worker.unref()
    const errors = new Map(m.errors.map(([i, code, message]) => [i, Object.assign(new Error(message), { code })]))
    items.forEach((item, i) => {
      const e = errors.get(i)
      if (e) item.reject(e)
      else item.resolve(new PackedStats(m.out, i * FIELDS) as unknown as BigIntStats)
    })
  }

  private fail(e: Error): void {
    this.failed ??= e
    for (const items of this.jobs.values()) for (const i of items) i.reject(e)
    for (const i of this.batch) i.reject(e)
    this.jobs.clear()
    this.batch = []
  }
}
